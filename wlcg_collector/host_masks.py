"""Sets of hosts as integers, one byte a host id: what compliance keeps
for each (requirement, package row) of a baseline over a fleet, so that a
union, intersection or difference of 100,000 hosts is one integer
operation (pure)."""

from itertools import compress
from operator import itemgetter

_LANES = [bytes((value >> bit) & 1 for bit in range(8)) for value in range(256)]


class HostMasks(object):
    """Sets of the hosts of a list as integers with one byte a host id (0
    or 1): a union, intersection or difference of 100,000 hosts is one
    integer operation; a bitmap of holders from the store becomes a mask
    with one table lookup per byte; and the hosts of a set come back in the
    list's order through itertools.compress."""

    def __init__(self, hosts):
        self.order = [host.id for host in hosts]  # the list's order, as ids
        self.size = max(self.order) + 1 if self.order else 0
        lanes = bytearray(self.size)
        for host_id in self.order:
            lanes[host_id] = 1
        self.known = int.from_bytes(lanes, "little")  # the list's hosts

    def of(self, host_ids):
        """The mask of these host ids (ints); the list's hosts only."""
        lanes = bytearray(self.size)
        for host_id in host_ids:
            if host_id < self.size:
                lanes[host_id] = 1
        return int.from_bytes(lanes, "little") & self.known

    def of_bitmap(self, bitmap):
        """The mask of a bitmap of host ids (bit i of byte i // 8: id i);
        the list's hosts only."""
        lanes = b"".join(map(_LANES.__getitem__, bitmap[:(self.size + 7) // 8]))
        return int.from_bytes(lanes[:self.size], "little") & self.known

    def flags(self, mask):
        """0 or 1 for each host of the list, in its order."""
        if not self.order:
            return ()
        lanes = mask.to_bytes(self.size, "little")
        picked = itemgetter(*self.order)(lanes)
        return picked if len(self.order) > 1 else (picked,)

    def select(self, items, mask):
        """The items (one per host, in list order) of the hosts in mask."""
        return compress(items, self.flags(mask))
