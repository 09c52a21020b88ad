# The test suite runs in a virtualenv of its own (.venv) holding the Python
# test tools; the Debian packages it needs are listed in .ci/debian-packages.
PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: test demo clean

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS) tests

$(VENV)/.installed: requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

demo:
	demo/run

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
