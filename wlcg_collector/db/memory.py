"""Giving a large report's memory back: a worker process keeps none of it."""

import ctypes
import ctypes.util
import gc


def _malloc_trim():
    """glibc's malloc_trim, where there is one: returns the freed arenas of
    a large report to the system (None elsewhere)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = _malloc_trim()


def release_memory(dialect, conn):
    """After a large report: its lists are garbage now (some in reference
    cycles, which wait for the cyclic collector), the database's cache and
    the allocator hold what they took; a worker process keeps none of it."""
    gc.collect()
    dialect.release_memory(conn)
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)
