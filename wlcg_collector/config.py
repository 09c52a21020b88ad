"""The collector configuration: an INI file, checked once at start-up.

    [collector]
    database = mysql://wlcg:secret@db.example.org:3306/wlcg_packages
    # the officer's commands and pages read from a replica, if given
    read_database = mysql://wlcg_ro:secret@replica.example.org:3306/wlcg_packages
    # one key/cert pair a line, paired in order; the first is the current one
    key  = /etc/wlcg-collector/collector.key
           /etc/wlcg-collector/collector-2025.key
    cert = /etc/wlcg-collector/collector.pem
           /etc/wlcg-collector/collector-2025.pem
    max_body = 4194304
    allow_plaintext = no
    trusted_proxies = 10.0.0.5
    package_cache = 100000
    read_connections = 2         # connections a whole-fleet read uses at once
    # who may write a host's rows (see trust.py)
    unsigned = accept            # pakiti-client's unsigned reports: accept, quarantine, reject
    capath = /etc/grid-security/certificates   # grid host certificates verify against it
    rekey_after_silence = 30     # days; a host silent that long may come back with a new key
    # a report for a site not on the list of sites (`sites import`): stored
    # (accept) or kept for the officer's review (quarantine)
    unknown_sites = accept
    # limits, so that nobody can fill the disk (db/quotas.py: every one)
    max_packages = 20000
    max_new_hosts_per_site = 2500       # a UTC day, of reports that prove nothing
    max_new_hosts_per_sender = 2500
    max_changed_reports_per_host = 4    # a UTC day
    max_new_rows_per_host = 5000
    quarantine_max_reports = 10000
    quarantine_max_bytes = 268435456
    quarantine_max_per_host = 4

    [advisories]
    # what `wlcg-collector advisories import` reads when given no SOURCE
    feeds = https://repo.almalinux.org/osv/almalinux9.zip ...
    ca_file = /etc/pki/tls/certs/mirror-ca.pem   # verify the feeds' servers with it
    max_feed_bytes = 268435456
    # more OS streams, tried before the built-in table (advisories/streams.py)
    os_streams = ^Springdale Linux release ([0-9]+) => Red Hat:\\1
    [sites]
    # what `wlcg-collector sites import` reads when given no SOURCE
    source = https://wlcg-cric.cern.ch/api/core/site/query/?json
    ca_file = /etc/pki/tls/certs/cern-ca.pem   # verify its server with it

    [mail]
    # the relay the officer's notices go through (campaign notices --send)
    smtp_host = smtp.example.org
    smtp_port = 25
    starttls = yes               # verified TLS before anything is sent (no: a trusted relay)
    ca_file = /etc/pki/tls/certs/smtp-ca.pem   # verify the relay with it (default: the system's)
    from = wlcg-security@example.org
    [officer]
    # who may read the web pages: certificate DNs (either form) or SSO users
    allow = /DC=ch/DC=cern/OU=Users/CN=officer
            jdoe
    stale_days = 7
    # who may read some sites only (readers.py): SITE IDENTITY a line
    site_readers = /etc/wlcg-collector/site-readers
    # and the people GOCDB gives one of these roles at a site (none unless set)
    site_reader_roles = Site Administrator, Site Security Officer

    [metrics]
    # who may read /metrics: addresses and networks (CIDR); default this host
    allow = 127.0.0.1 ::1 192.0.2.0/28

Everything that can be wrong is found here, as one line, rather than at the
first request: a missing or unreadable key, a key that group or others can
read, a key that does not match its certificate, a bad database URL.
"""

import codecs
import configparser
import ipaddress
import os
import re
import stat

from . import crypto, trust
from .advisories.sources import MAX_FILE
from .advisories.streams import StreamTableError, parse_config_rows
from .dates import DAY
from .db import PACKAGE_CACHE_LIMIT, READ_CONNECTIONS, Limits, parse_database_url
from .db.quotas import SETTINGS as LIMIT_SETTINGS
from .limits import MAX_PACKAGES
from .mail import DEFAULT_PORT as SMTP_PORT, MailSettings, parse_sender
from .numerals import decimal_number, whole_number
from .readers import ReadersError, SiteReaders, parse_roles, parse_site_readers

DEFAULT_CONFIG = "/etc/wlcg-collector/collector.conf"
ENV_CONFIG = "WLCG_COLLECTOR_CONFIG"
DEFAULT_DATABASE = "sqlite:////var/lib/wlcg-collector/collector.db"
DEFAULT_MAX_BODY = 4 * 1024 * 1024
# each is a database connection of every process reading the whole fleet
MAX_READ_CONNECTIONS = 32
# a config file is a few kB: more is not one
MAX_CONFIG_BYTES = 1024 * 1024
# rekey_after_silence below a day would let any key replace any pin at once
MIN_REKEY_DAYS = 1
# who may read /metrics unless [metrics] allow says otherwise: this host
DEFAULT_METRICS_ALLOW = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))


class ConfigError(Exception):
    """A configuration problem; the message is one line naming it."""


class Config(object):
    def __init__(self):
        self.path = None
        self.database = DEFAULT_DATABASE
        self.read_database = None  # a replica for the officer's reads (None: database)
        self.pairs = []  # [(key, cert)], tried in order
        self.max_body = DEFAULT_MAX_BODY
        self.allow_plaintext = False
        self.trusted_proxies = frozenset()
        self.clock_skew = 300
        self.package_cache = PACKAGE_CACHE_LIMIT  # package ids kept in memory
        self.read_connections = READ_CONNECTIONS  # at once, by a whole-fleet read
        self.rules = trust.Rules()
        self.limits = Limits()
        self.max_packages = MAX_PACKAGES
        self.officer_allow = []  # DNs and user names allowed to read the pages
        self.site_readers = SiteReaders()  # who may read some sites only
        self.stale_days = 7
        self.feeds = []  # advisory feeds `advisories import` reads when given none
        self.site_source = None  # the site list `sites import` reads when given none
        self.site_ca_file = None
        self.os_streams = []  # [(regex, streams)] before advisories/streams.py's table
        self.feed_ca_file = None
        self.max_feed_bytes = MAX_FILE
        self.mail = MailSettings()  # [mail]: the relay notices go through
        self.metrics_allow = DEFAULT_METRICS_ALLOW  # [metrics]: networks that may read /metrics


# [collector] options of the limits, and the Limits attributes they set
# (db/quotas.py has them all, with their defaults)
LIMITS = {setting: attribute for setting, attribute, _, _ in LIMIT_SETTINGS}


def ascii_int(text, name, signed=True):
    """A whole number, '-' allowed when signed (a negative one then gets
    its own message where it is refused); ValueError naming the option
    otherwise."""
    try:
        return whole_number(text, signed=signed)
    except ValueError:
        raise ValueError("%s = %r: not a whole number" % (name, str(text).strip()))


def positive_int(section, name, default):
    text = section.get(name)
    if text is None:
        return default
    value = ascii_int(text, name)
    if value < 1:
        raise ValueError("%s = %s: at least 1" % (name, text))
    return value


def positive_float(text, name, what="a number of days, more than 0 (or off)"):
    """A number more than 0 (1.5 allowed; nan, inf, 1e3 and signs are no
    number); ValueError naming the option otherwise."""
    try:
        value = decimal_number(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise ValueError("%s = %s: %s" % (name, str(text).strip(), what))
    return value


def config_path(explicit=None):
    """The file to read: explicit, else $WLCG_COLLECTOR_CONFIG, else the
    default when it exists (None: built-in defaults only)."""
    if explicit:
        return explicit
    if os.environ.get(ENV_CONFIG):
        return os.environ[ENV_CONFIG]
    if os.path.exists(DEFAULT_CONFIG):
        return DEFAULT_CONFIG
    return None


def config_file_problem(mode, path):
    """Why a file of this st_mode may not configure the collector, or None:
    anybody who may write it decides which keys and database are used."""
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    if mode & stat.S_IWOTH:
        return "is writable by others (mode %04o): chmod o-w %s" % (stat.S_IMODE(mode), path)
    return None


def config_text(data, path):
    """The text of a config file's bytes: UTF-8 (a byte order mark
    allowed), whatever the locale says (mod_wsgi's is often ASCII)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("config file %s is not UTF-8 text (line %d)"
                          % (path, data.count(b"\n", 0, exc.start) + 1))


def read_config_text(path):
    """The config file's text; ConfigError for one that cannot be read or
    may not be used (config_file_problem), judged on what was opened
    (through any symlink), and without waiting on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            problem = config_file_problem(os.fstat(handle.fileno()).st_mode, path)
            if problem:
                raise ConfigError("config file %s %s" % (path, problem))
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError("cannot read config file %s: %s" % (path, exc.strerror or exc))
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError("config file %s is larger than %d bytes" % (path, MAX_CONFIG_BYTES))
    return config_text(data, path)


def _lines(value):
    return [part.strip() for part in value.replace(",", "\n").splitlines() if part.strip()]


def load_config(path=None, database=None, keys=None, certs=None):
    """A checked Config from the file (see config_path) and overrides."""
    config = Config()
    path = config_path(path)
    if path is not None:
        parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
        try:
            parser.read_string(read_config_text(path), source=path)
        except configparser.Error as exc:
            raise ConfigError("config file %s: %s" % (path, str(exc).splitlines()[0]))
        config.path = path
        section = parser["collector"] if parser.has_section("collector") else {}
        known = {"database", "read_database", "key", "cert", "max_body", "allow_plaintext",
                 "trusted_proxies", "clock_skew", "package_cache", "unsigned", "capath",
                 "rekey_after_silence", "max_packages", "unknown_sites",
                 "read_connections"} | set(LIMITS)
        for name in section:
            if name not in known:
                raise ConfigError("config file %s: unknown option %r in [collector]"
                                  % (path, name))
        config.database = section.get("database", config.database)
        config.read_database = section.get("read_database", "").strip() or None
        keys = keys or _lines(section.get("key", ""))
        certs = certs or _lines(section.get("cert", ""))
        try:
            config.max_body = ascii_int(section.get("max_body", config.max_body), "max_body")
            # seconds a signed report's ts may be ahead: no sign makes sense
            config.clock_skew = ascii_int(section.get("clock_skew", config.clock_skew),
                                          "clock_skew", signed=False)
            config.package_cache = ascii_int(section.get("package_cache", config.package_cache),
                                             "package_cache")
            config.max_packages = positive_int(section, "max_packages", config.max_packages)
            config.read_connections = positive_int(section, "read_connections",
                                                   config.read_connections)
            if config.read_connections > MAX_READ_CONNECTIONS:
                raise ValueError("read_connections = %d: at most %d"
                                 % (config.read_connections, MAX_READ_CONNECTIONS))
            for name, attribute in LIMITS.items():
                setattr(config.limits, attribute, positive_int(
                    section, name, getattr(config.limits, attribute)))
            if parser.has_section("collector"):
                config.allow_plaintext = parser.getboolean("collector", "allow_plaintext",
                                                           fallback=False)
            rekey = section.get("rekey_after_silence", "").strip()
            rekey_days = positive_float(rekey, "rekey_after_silence") \
                if rekey and rekey != "off" else None
            if rekey_days is not None and rekey_days < MIN_REKEY_DAYS:
                raise ValueError("rekey_after_silence = %s: at least %d day(s), or off"
                                 % (rekey, MIN_REKEY_DAYS))
            config.rules = trust.Rules(
                unsigned=section.get("unsigned", "accept").strip(),
                rekey_after_silence=int(rekey_days * DAY) if rekey_days is not None else None,
                capath=section.get("capath", "").strip() or None,
                unknown_sites=section.get("unknown_sites", "accept").strip())
        except ValueError as exc:
            raise ConfigError("config file %s: %s" % (path, exc))
        if config.rules.capath and not os.path.isdir(config.rules.capath):
            raise ConfigError("config file %s: capath %s is not a directory"
                              % (path, config.rules.capath))
        config.trusted_proxies = frozenset(_lines(section.get("trusted_proxies", "")))
        if parser.has_section("officer"):
            officer = parser["officer"]
            for name in officer:
                if name not in ("allow", "stale_days", "site_readers", "site_reader_roles"):
                    raise ConfigError("config file %s: unknown option %r in [officer]"
                                      % (path, name))
            # one DN or user name a line (a DN may hold commas)
            config.officer_allow = [line.strip() for line in officer.get("allow", "").splitlines()
                                    if line.strip()]
            try:
                if "stale_days" in officer:
                    config.stale_days = positive_float(officer["stale_days"], "stale_days",
                                                       "a number of days, more than 0")
            except ValueError as exc:
                raise ConfigError("config file %s: [officer] %s" % (path, exc))
            config.site_readers = _load_site_readers(officer, path)
        if parser.has_section("advisories"):
            _load_advisories(config, parser["advisories"], path)
        if parser.has_section("sites"):
            _load_sites(config, parser["sites"], path)
        if parser.has_section("mail"):
            _load_mail(config, parser["mail"], path)
        if parser.has_section("metrics"):
            _load_metrics(config, parser["metrics"], path)
    if database:
        config.database = database
        config.read_database = None  # --db names the one database to use
    keys = list(keys or [])
    certs = list(certs or [])
    if len(keys) != len(certs):
        raise ConfigError("%d key(s) but %d certificate(s): give them in pairs, in the same "
                          "order" % (len(keys), len(certs)))
    config.pairs = list(zip(keys, certs))
    if config.package_cache < 0:
        raise ConfigError("package_cache %d is negative (0 keeps no package id in memory)"
                          % config.package_cache)
    if config.max_body < 1024:
        raise ConfigError("max_body %d is too small (at least 1024 bytes)" % config.max_body)
    try:
        parse_database_url(config.database)
    except ValueError as exc:
        raise ConfigError("database URL: %s" % exc)
    if config.read_database:
        try:
            parse_database_url(config.read_database)
        except ValueError as exc:
            raise ConfigError("read_database URL: %s" % exc)
    return config


def check_key_pairs(config):
    """ConfigError unless every configured pair is usable by the ingest path."""
    if not config.pairs:
        raise ConfigError("no collector key configured: set key and cert in [collector] "
                          "(wlcg-collector keygen DIR makes a pair)")
    for key, cert in config.pairs:
        check_key_file(key)
        if not os.path.isfile(cert) or not os.access(cert, os.R_OK):
            raise ConfigError("certificate %s is missing or unreadable" % cert)
        try:
            crypto.check_pair(key, cert)
        except crypto.CryptoError as exc:
            raise ConfigError(str(exc))


def check_key_file(key):
    try:
        info = os.stat(key)
    except OSError as exc:
        raise ConfigError("key %s: %s" % (key, exc.strerror or exc))
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("key %s is not a regular file" % key)
    if info.st_mode & 0o077:
        raise ConfigError("key %s is readable by group or others (mode %04o): chmod 600 it"
                          % (key, stat.S_IMODE(info.st_mode)))
    if not os.access(key, os.R_OK):
        raise ConfigError("key %s is not readable by this user" % key)


def _load_site_readers(section, path):
    """The SiteReaders of [officer] site_readers (a file, read as the
    config file is: it says who reads what) and site_reader_roles."""
    try:
        roles = parse_roles(section.get("site_reader_roles", ""))
    except ReadersError as exc:
        raise ConfigError("config file %s: [officer] %s" % (path, exc))
    readers_path = section.get("site_readers", "").strip() or None
    if readers_path is None:
        return SiteReaders([], roles)
    try:
        entries = parse_site_readers(read_config_text(readers_path), readers_path)
    except ReadersError as exc:
        raise ConfigError("config file %s: [officer] site_readers %s" % (path, exc))
    return SiteReaders(entries, roles, readers_path)


def _load_sites(config, section, path):
    for name in section:
        if name not in ("source", "ca_file"):
            raise ConfigError("config file %s: unknown option %r in [sites]" % (path, name))
    config.site_source = section.get("source", "").strip() or None
    config.site_ca_file = section.get("ca_file", "").strip() or None
    if config.site_ca_file and not os.path.isfile(config.site_ca_file):
        raise ConfigError("config file %s: [sites] ca_file %s is not a file"
                          % (path, config.site_ca_file))


def _load_advisories(config, section, path):
    for name in section:
        if name not in ("feeds", "ca_file", "max_feed_bytes", "os_streams"):
            raise ConfigError("config file %s: unknown option %r in [advisories]" % (path, name))
    config.feeds = section.get("feeds", "").split()
    config.feed_ca_file = section.get("ca_file", "").strip() or None
    if config.feed_ca_file and not os.path.isfile(config.feed_ca_file):
        raise ConfigError("config file %s: [advisories] ca_file %s is not a file"
                          % (path, config.feed_ca_file))
    try:
        config.max_feed_bytes = positive_int(section, "max_feed_bytes", config.max_feed_bytes)
        config.os_streams = parse_config_rows(section.get("os_streams", ""))
    except (ValueError, StreamTableError) as exc:
        raise ConfigError("config file %s: [advisories] %s" % (path, exc))


def _load_mail(config, section, path):
    for name in section:
        if name not in ("smtp_host", "smtp_port", "starttls", "ca_file", "from"):
            raise ConfigError("config file %s: unknown option %r in [mail]" % (path, name))
    mail = config.mail
    mail.smtp_host = section.get("smtp_host", "").strip() or None
    try:
        mail.smtp_port = positive_int(section, "smtp_port", SMTP_PORT)
        if mail.smtp_port > 65535:
            raise ValueError("smtp_port = %d: not a TCP port" % mail.smtp_port)
        starttls = section.get("starttls", "yes").strip().lower()
        if starttls not in ("yes", "no"):
            raise ValueError("starttls = %r: yes or no" % starttls)
        mail.starttls = starttls == "yes"
        if section.get("from", "").strip():
            mail.sender = parse_sender(section["from"])
    except ValueError as exc:
        raise ConfigError("config file %s: [mail] %s" % (path, exc))
    mail.ca_file = section.get("ca_file", "").strip() or None
    if mail.ca_file and not os.path.isfile(mail.ca_file):
        raise ConfigError("config file %s: [mail] ca_file %s is not a file"
                          % (path, mail.ca_file))


def parse_networks(text):
    """The networks of a list of addresses and CIDR networks (spaces,
    commas or lines apart); ValueError naming the first that is neither,
    or a network written with host bits (10.0.0.1/24: which was meant?)."""
    networks = []
    for word in re.split(r"[\s,]+", text.strip()) if text.strip() else []:
        try:
            networks.append(ipaddress.ip_network(word))
        except ValueError:
            try:
                meant = ipaddress.ip_network(word, strict=False)
            except ValueError:
                raise ValueError("%r is not an IP address or network (CIDR, such as "
                                 "192.0.2.0/24)" % word[:100])
            raise ValueError("%r has host bits set: write the network, %s" % (word, meant))
    return tuple(networks)


def _load_metrics(config, section, path):
    for name in section:
        if name != "allow":
            raise ConfigError("config file %s: unknown option %r in [metrics]" % (path, name))
    try:
        config.metrics_allow = parse_networks(section.get("allow", ""))
    except ValueError as exc:
        raise ConfigError("config file %s: [metrics] allow: %s" % (path, exc))
