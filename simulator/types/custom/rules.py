"""Custom's stateless rule: ip_address is an IP address (FT names the format but its validator checks none)."""
from __future__ import annotations

import ipaddress

from simulator.contract.plugin import Facts
from simulator.core.violations import Violation


def ip_address(f: Facts):
    value = f.payload.get("ip_address")
    if not isinstance(value, str):
        return
    try:
        ipaddress.ip_address(value)
    except ValueError:
        yield Violation("custom.ip_address", "/ip_address",
                        f"ip_address: expected an IPv4 or IPv6 address such as 192.0.2.1, got {value!r}")
