"""Database URLs: sqlite:///PATH and mysql://user:password@host:port/db
(?compound=no: MariaDB's writes sent one statement at a time, for a proxy
in front of it that does not pass compound statements: db/deferred.py)."""

import urllib.parse


def parse_database_url(url):
    """{'kind': 'sqlite', 'path': ...} or {'kind': 'mysql', host, port, ...}.

    sqlite:///rel.db is relative to the working directory, sqlite:////abs.db
    absolute; mysql://user:password@host:port/database."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise ValueError("sqlite URL %r names no file" % url)
        return {"kind": "sqlite", "path": path}
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("mysql", "mariadb", "mysql+pymysql"):
        database = parts.path.lstrip("/")
        if not parts.hostname or not database or "/" in database:
            raise ValueError("expected mysql://user:password@host:port/database, not %r"
                             % redact(url))
        port_text = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
        if port_text and not (port_text.isascii() and port_text.isdigit()):
            raise ValueError("bad port in %r" % redact(url))
        try:
            port = parts.port or 3306
        except ValueError:
            raise ValueError("bad port in %r" % redact(url))
        return {"kind": "mysql", "host": parts.hostname, "port": port,
                "user": urllib.parse.unquote(parts.username or ""),
                "password": urllib.parse.unquote(parts.password or ""),
                "database": urllib.parse.unquote(database),
                "compound": _compound(parts.query, url)}
    raise ValueError("unsupported database URL %r (sqlite:///PATH or "
                     "mysql://user:password@host:port/db)" % redact(url))


def _compound(query, url):
    """Whether the URL's query lets writes go as compound statements (the
    default); anything else in the query is refused, not ignored."""
    options = urllib.parse.parse_qsl(query, keep_blank_values=True)
    compound = True
    for name, value in options:
        if name != "compound" or value not in ("yes", "no"):
            raise ValueError("unknown option %r in %r (the only one is compound=yes|no)"
                             % (name + "=" + value, redact(url)))
        compound = value == "yes"
    return compound


def redact(url):
    """The URL without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url
