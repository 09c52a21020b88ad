"""What the storage package raises: every message is one line."""


class StoreError(Exception):
    """A storage problem that is not the database being away."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is overloaded: try again later."""


class UnknownHost(StoreError):
    """No such host (or site), or a host name known at several sites."""


class UnknownBaseline(StoreError):
    """No stored baseline of that name (or revision)."""
