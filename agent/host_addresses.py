"""The host's interface addresses, from the C library's ``getifaddrs`` through ``ctypes``.

The agent used ``psutil.net_if_addrs`` for them, which calls the same ``getifaddrs``; importing psutil
for this once at start kept ~0.9 MiB resident in the idle agent (its modules and its C extension).
``ctypes`` is loaded anyway (``agent.memory``).
"""

from __future__ import annotations

import ctypes
import os
import socket


class _SockAddr(ctypes.Structure):
    _fields_ = (("family", ctypes.c_ushort),)


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = (  # <ifaddrs.h>; the union ifa_ifu is one pointer
    ("next", ctypes.POINTER(_IfAddrs)),
    ("name", ctypes.c_char_p),
    ("flags", ctypes.c_uint),
    ("addr", ctypes.POINTER(_SockAddr)),
    ("netmask", ctypes.POINTER(_SockAddr)),
    ("ifu", ctypes.c_void_p),
    ("data", ctypes.c_void_p),
)

# Where the address starts in struct sockaddr_in (after family and port) and sockaddr_in6 (after family,
# port and flow information), and its length.
_ADDRESS_AT = {socket.AF_INET: (4, 4), socket.AF_INET6: (8, 16)}

_libc = ctypes.CDLL(None, use_errno=True)
_getifaddrs = _libc.getifaddrs
_getifaddrs.argtypes = (ctypes.POINTER(ctypes.POINTER(_IfAddrs)),)
_getifaddrs.restype = ctypes.c_int
_freeifaddrs = _libc.freeifaddrs
_freeifaddrs.argtypes = (ctypes.POINTER(_IfAddrs),)
_freeifaddrs.restype = None


def interface_addresses() -> list[str]:
    """Every IPv4 and IPv6 address of every interface as text (an IPv6 link-local address without its
    zone), interface by interface in the order ``getifaddrs`` first names them, as psutil lists them.
    Raises OSError if ``getifaddrs`` fails."""
    head = ctypes.POINTER(_IfAddrs)()
    if _getifaddrs(ctypes.byref(head)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"getifaddrs: {os.strerror(error)}")
    by_interface: dict[bytes | None, list[str]] = {}
    try:
        entry = head
        while entry:
            address = entry.contents.addr
            if address:
                family = address.contents.family
                if family in _ADDRESS_AT:
                    offset, length = _ADDRESS_AT[family]
                    raw = ctypes.string_at(ctypes.addressof(address.contents) + offset, length)
                    addresses = by_interface.setdefault(entry.contents.name, [])
                    addresses.append(socket.inet_ntop(family, raw))
            entry = entry.contents.next
    finally:
        _freeifaddrs(head)
    return [address for addresses in by_interface.values() for address in addresses]
