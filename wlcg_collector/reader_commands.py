"""`wlcg-collector readers`: who may read the officer's pages, and which
sites: the team (every site), the site_readers file's lines and the
people GOCDB gives one of site_reader_roles' roles, each site as a
request would resolve it (through the renames and merges done).

    readers [--site SITE]    everyone, or those who may read SITE
"""

from .cli_common import UsageError, command, config_of, emit, store_of, with_format, with_site

READER_COLUMNS = ["site", "identity", "source", "role", "line", "written"]


def declare_readers(commands):
    p = command(commands, "readers", "who may read the officer's pages and which sites: the "
                                     "team (every site, site *), [officer] site_readers (file) "
                                     "and GOCDB's site_reader_roles (gocdb)", cmd_readers)
    with_site(p, "only those who may read SITE")
    with_format(p)


def cmd_readers(args):
    config = config_of(args)
    store = store_of(args, read=True)
    readers = config.site_readers
    # what stops the collector from starting stops this list too
    problem = readers.unknown_site(store)
    if problem:
        raise UsageError("config file %s: [officer] site_readers %s" % (config.path, problem))
    emit([row._asdict() for row in readers.listed(store, config.officer_allow, args.site)],
         READER_COLUMNS, args.format)
