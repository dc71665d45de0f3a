"""Where this machine is on the network: its LAN address for a phone to open, and which host names reach only itself."""

from __future__ import annotations

import ipaddress
import socket

# Host names that reach only this machine (besides the 127.0.0.0/8 and ::1 addresses).
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})
# A private address no route answers on: connecting a UDP socket to it only picks the LAN route.
ROUTE_PROBE_ADDRESS = ("10.255.255.255", 1)


def lan_address() -> str | None:
    """This machine's address on the local network, for a phone to reach (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # Connecting a UDP socket only picks a route; nothing goes on the wire.
        probe.connect(ROUTE_PROBE_ADDRESS)
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if ipaddress.ip_address(address).is_loopback else address


def is_loopback(host: str) -> bool:
    """True when a host name only reaches this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
