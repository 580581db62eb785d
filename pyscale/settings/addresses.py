"""Address settings, judged by what they cover rather than by how they are written.

Python's `ipaddress` accepts one network in many spellings (netmask or hostmask notation,
host bits set, a bare address, IPv6 in any case or zero compression), and a set of entries
can cover the whole internet without any entry being 0.0.0.0/0. pyscale accepts each network
only in its canonical form (the message shows it) and reasons on the union of a set. The
policy pack (policy/rules/ingress.py) reads firewall sources the same way; it runs in its own
virtualenv, without this package.
"""

from __future__ import annotations

import ipaddress
import re

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EVERY_IPV4 = ipaddress.ip_network("0.0.0.0/0")
EVERY_IPV6 = ipaddress.ip_network("::/0")
# IPv4-mapped IPv6 (RFC 4291 2.5.5.2): ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
# DigitalOcean takes VPC ranges from RFC 1918 only, no larger than /16 and no smaller than
# /28; OVHcloud subnets accept the same. A range must also not overlap another VPC in the
# same account, which one stack cannot see: each environment has its own default range.
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# The node's own addresses: private like the VPC (the per-client limits never count them).
LOOPBACK = tuple(ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128"))
VPC_ALLOWED = "an RFC 1918 IPv4 CIDR from /16 to /28, such as 10.110.0.0/20"
_LEADING_ZERO = re.compile(r"(?<![\d.])0+(?=\d)|(?<=\.)0+(?=\d)|(?<=/)0+(?=\d)")


def canonical(value: str) -> tuple[Network | None, str | None]:
    """(the network, None) for a CIDR in canonical form; (None, why not) otherwise, showing
    the canonical spelling when the value names a network in another one."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        unpadded = _LEADING_ZERO.sub("", value)
        if unpadded != value and _parses(unpadded):
            return None, (
                "has a leading zero, which some tools read as octal; write "
                f"{ipaddress.ip_network(unpadded, strict=False)} if that is the network meant"
            )
        return None, "is not a network in CIDR form (address/prefix, such as 198.51.100.0/24)"
    if value == str(network):
        return network, None
    return None, f"is not written canonically ({_why(value, network)}); write {network}"


# How a setting holding networks names them, in the list and one at a time.
NETWORK_WORDS = ("networks such as 198.51.100.0/24", "a network such as 198.51.100.0/24")


def cidr_problem(value: str) -> str | None:
    """Why `value` is not a network in canonical CIDR form, or None."""
    return canonical(value)[1]


def vpc_problem(value: str) -> str | None:
    """Why `value` cannot be a VPC range, or None when it can."""
    network, why = canonical(value)
    if network is None:
        return f"{why}; must be {VPC_ALLOWED}"
    if network.version != 4 or not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        return f"is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16; must be {VPC_ALLOWED}"
    if not 16 <= network.prefixlen <= 28:
        return f"has a /{network.prefixlen} prefix; must be {VPC_ALLOWED}"
    return None


def _parses(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _why(value: str, network: Network) -> str:
    address, _, prefix = value.partition("/")
    if not prefix:
        return "no prefix length"
    if not prefix.isdigit():
        return "a mask instead of a prefix length"
    if ipaddress.ip_address(address) != network.network_address:
        return "host bits set"
    return "another spelling of the same network"


def as_ipv4(network: Network) -> Network:
    """An IPv4-mapped IPv6 network as the IPv4 network it maps; any other unchanged."""
    if network.version == 6 and network.subnet_of(IPV4_MAPPED):
        low = int(network.network_address) & 0xFFFF_FFFF
        return ipaddress.ip_network((low, network.prefixlen - 96))
    return network


def covered_families(networks: list[Network]) -> list[str]:
    """The whole address families ("0.0.0.0/0", "::/0") the networks cover between them."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for network in map(as_ipv4, networks):
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
            if IPV4_MAPPED.subnet_of(network):
                v4.append(EVERY_IPV4)
    covered = []
    if list(ipaddress.collapse_addresses(v4)) == [EVERY_IPV4]:
        covered.append(str(EVERY_IPV4))
    if list(ipaddress.collapse_addresses(v6)) == [EVERY_IPV6]:
        covered.append(str(EVERY_IPV6))
    return covered


def overlaps(networks: list[Network]) -> list[tuple[Network, Network]]:
    """Pairs of entries where one holds the other (a duplicate included)."""
    mapped = [as_ipv4(n) for n in networks]
    return [
        (networks[i], networks[j])
        for i in range(len(networks))
        for j in range(i + 1, len(networks))
        if mapped[i].version == mapped[j].version and mapped[i].overlaps(mapped[j])
    ]


def _set_problem(values: tuple[str, ...], covering: str) -> str | None:
    """Why a set of networks is refused as a whole: it covers a whole address family
    (`covering` says why that is wrong here), or one entry holds another."""
    networks = [n for n in (canonical(v)[0] for v in values) if n is not None]
    covered = covered_families(networks)
    if covered:
        return f"together cover {' and '.join(covered)}, {covering}"
    pairs = overlaps(networks)
    if pairs:
        a, b = pairs[0]
        return f"has overlapping entries ({a} and {b}); list each network once"
    return None


def ssh_sources_problem(values: tuple[str, ...]) -> str | None:
    """Why a set of SSH sources is refused as a whole, or None."""
    return _set_problem(
        values,
        "the whole internet; SSH is never open to it: name the networks you connect from, "
        "or leave the list empty",
    )


def admin_sources_problem(values: tuple[str, ...]) -> str | None:
    """Why a set of networks allowed to the monitoring node's dashboards is refused."""
    return _set_problem(
        values,
        "the whole internet; Prometheus has no login and the dashboards show the fleet: name "
        "the networks your operators connect from, or leave the list empty",
    )


def nginx_network_problem(value: str) -> str | None:
    """Why `value` cannot be one of Nginx's client networks (geo), or None. Nginx matches an
    IPv4-mapped client as its IPv4 address, so such an entry, however written, never would."""
    if _parses(value):
        network = ipaddress.ip_network(value, strict=False)
        if network.version == 6 and network.subnet_of(IPV4_MAPPED):
            ipv4 = as_ipv4(network)
            return f"is an IPv4-mapped IPv6 network, which Nginx never matches; write {ipv4}"
    return canonical(value)[1]


def exempt_sources_problem(values: tuple[str, ...]) -> str | None:
    """Why a set of networks exempt from the per-client limits is refused as a whole."""
    return _set_problem(
        values,
        "every client; to turn the limits off set edge.clientConcurrency and edge.clientRate to 0",
    )
