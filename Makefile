# The test suite runs in a virtualenv of its own (.venv) holding the Python
# test tools; the Debian packages it needs are listed in .ci/debian-packages,
# and tests/check installs them (and starts MariaDB) before `make test`.
PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: check test test-oldest-python demo demo-grid clean dist rpm rpmlint

# from a fresh Debian machine: system packages, MariaDB, then the tests
check:
	tests/check

# on a machine already set up: the whole suite in parallel (TEST_WORKERS
# processes, given whole test files, the slow ones first: conftest's
# SLOW_FILES; every test has its own databases, ports and directories), and
# beside it the reporter's tests under the oldest Python here, whose output
# follows the suite's. Nothing is built or written into the checkout: a
# file the run left in it (tests/checkout-files lists them before and
# after) fails the target.
# Bytecode is cached for the run in its scratch directory (PYTHONPYCACHEPREFIX),
# never in the checkout, whatever PYTHONDONTWRITEBYTECODE says: without a
# cache each worker rewrote and compiled every test module (2 s of CPU) and
# each collector process the tests start compiled the package (0.1 s). One
# process collects the tests first, alone, so that the workers find every
# module compiled (each compiling them at once cost 3.5 s of CPU more). The
# oldest Python has no such prefix: it writes no bytecode at all.
TEST_WORKERS ?= 4
test: $(VENV)/.installed
	@scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	tests/checkout-files > "$$scratch/before"; \
	PYTHONDONTWRITEBYTECODE=1 PYTHON=$(PYTHON) tests/oldest-python \
	    > "$$scratch/oldest-python.log" 2>&1 & oldest=$$!; \
	env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX="$$scratch/bytecode" \
	    $(VENV)/bin/python -m pytest -q -p no:cacheprovider --collect-only tests > /dev/null 2>&1; \
	env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX="$$scratch/bytecode" \
	    $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
	    $(PYTEST_ARGS) tests; suite=$$?; \
	wait $$oldest; older=$$?; cat "$$scratch/oldest-python.log"; \
	tests/checkout-files > "$$scratch/after"; \
	written=$$(comm -13 "$$scratch/before" "$$scratch/after" | cut -d' ' -f2-); \
	if [ -n "$$written" ]; then \
	    echo "make test: the run wrote into the checkout (new or changed since it began):" >&2; \
	    echo "$$written" | sed 's/^/    /' >&2; \
	fi; \
	[ $$suite -eq 0 ] && [ $$older -eq 0 ] && [ -z "$$written" ]

test-oldest-python:
	PYTHON=$(PYTHON) tests/oldest-python

$(VENV)/.installed: requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

demo:
	demo/run

# A grid to try the pages on (demo/grid.py): some 250 hosts at 40 sites over
# four weeks of real signed reports, built on SQLite in GRID_DIR (default: a
# new temporary directory, kept) and then served; GRID_ARGS adds options
# (--no-serve to build only, --hosts, --sites, --days, --seed, --end).
GRID_DIR ?=
GRID_ARGS ?=
demo-grid:
	$(PYTHON) demo/grid.py $(if $(GRID_DIR),--dir "$(GRID_DIR)") $(GRID_ARGS)

# The source tarball: every file git tracks (or would track) in this tree.
NAME := wlcg-package-reporter
VERSION := $(shell sed -n 's/^VERSION = "\(.*\)"/\1/p' wlcg-package-reporter)
# DIST and RPMTOP may point elsewhere (the tests build there, outside the
# checkout)
DIST ?= dist
TARBALL := $(DIST)/$(NAME)-$(VERSION).tar.gz

dist: $(TARBALL)

$(TARBALL): $(shell git ls-files --cached --others --exclude-standard 2>/dev/null)
	mkdir -p $(DIST)
	git ls-files --cached --others --exclude-standard -z \
	    | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
	    | tar --null --files-from=- --transform 's,^,$(NAME)-$(VERSION)/,' \
	          --owner=0 --group=0 --mtime='@$(shell git log -1 --format=%ct 2>/dev/null || date +%s)' \
	          -czf $@

# Binary and source RPMs in dist/. COLLECTOR_CERT is the production collector
# certificate the reporter package carries; without it a throwaway one is
# made (for tests only: such packages cannot reach the real collector).
COLLECTOR_CERT ?=
PACKAGER ?= WLCG package reporter maintainers
RPMTOP ?= $(CURDIR)/build/rpm
# On a builder that is not rpm-based (Debian CI) the build requirements are
# Debian packages rpm cannot see.
RPMBUILD_FLAGS ?= $(shell rpm -q --quiet python3 2>/dev/null || echo --nodeps)
rpm: $(TARBALL)
	rm -rf $(RPMTOP) && mkdir -p $(RPMTOP)/SOURCES
	cp $(TARBALL) $(RPMTOP)/SOURCES/
	if [ -n "$(COLLECTOR_CERT)" ]; then \
	    cp "$(COLLECTOR_CERT)" $(RPMTOP)/SOURCES/collector.pem; \
	else \
	    echo "make rpm: no COLLECTOR_CERT given: packaging a throwaway test certificate" >&2; \
	    openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -days 30 \
	        -subj /CN=wlcg-collector-test-only -out $(RPMTOP)/SOURCES/collector.pem 2>/dev/null; \
	fi
	rpmbuild -ba $(RPMBUILD_FLAGS) spec/$(NAME).spec --define "_topdir $(RPMTOP)" \
	    --define "packager $(PACKAGER)"
	find $(RPMTOP)/RPMS $(RPMTOP)/SRPMS -name '*.rpm' -exec cp {} $(DIST)/ \;
	ls $(DIST)/*.rpm

rpmlint: rpm
	rpmlint -r spec/$(NAME).rpmlintrc $(DIST)/*-$(VERSION)-*.rpm

clean:
	rm -rf $(VENV) .venv-oldest build dist *.egg-info .pytest_cache
