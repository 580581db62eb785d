"""Who may connect: inbound rules of every cloud's firewall, and the addresses they name.

A DigitalOcean firewall, an OVHcloud security group and an OpenStack rule say the same thing
in three shapes; `ingress_rules` reads them into one `Ingress`, so the network rules are
written once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .reading import Res
from .tokens import DO_FIREWALL, OS_SECGROUP_RULE, OVH_SECURITY_GROUP

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_EVERY_IPV4 = ipaddress.ip_network("0.0.0.0/0")
_EVERY_IPV6 = ipaddress.ip_network("::/0")
# IPv4-mapped IPv6 (RFC 4291 2.5.5.2): ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def source_network(source: Any) -> Network | None:
    """The network a rule's source covers, read as the provider reads it: any spelling
    (netmask or hostmask notation, host bits set, a bare address, IPv6 in any form), an
    IPv4-mapped IPv6 network as the IPv4 network it maps. None for what is not an address
    string (UNKNOWN during a preview, a load balancer reference)."""
    if not isinstance(source, str):
        return None
    try:
        network = ipaddress.ip_network(source.strip(), strict=False)
    except ValueError:
        return None
    if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
        low = int(network.network_address) & 0xFFFF_FFFF
        return ipaddress.ip_network((low, network.prefixlen - 96))
    return network


def covered_families(networks: list[Network]) -> list[str]:
    """The whole address families ("0.0.0.0/0", "::/0") that `networks` (as source_network
    reads them) cover between them: 0.0.0.0/1 and 128.0.0.0/1 cover 0.0.0.0/0 as surely as
    0.0.0.0/0 does."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for network in networks:
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
            if _IPV4_MAPPED.subnet_of(network):
                v4.append(_EVERY_IPV4)
    covered = []
    if list(ipaddress.collapse_addresses(v4)) == [_EVERY_IPV4]:
        covered.append(str(_EVERY_IPV4))
    if list(ipaddress.collapse_addresses(v6)) == [_EVERY_IPV6]:
        covered.append(str(_EVERY_IPV6))
    return covered


def is_public_source(cidr: Any) -> bool:
    """True for 0.0.0.0/0, ::/0 and any other address outside private/documentation ranges.

    An address we cannot parse (a name, UNKNOWN) is not proof of exposure.
    """
    network = source_network(cidr)
    if network is None:
        return False
    if network.prefixlen == 0:
        return True
    return not (network.is_private or network.is_loopback or network.is_link_local)


def _port_range_covers(port_range: Any, port: int) -> bool:
    """DigitalOcean `portRange`: "22", "1-65535", "all" (or absent for all ports)."""
    if port_range is None or port_range == "" or port_range == "all":
        return True
    if not isinstance(port_range, str | int):
        return False  # UNKNOWN: cannot prove exposure
    text = str(port_range)
    low, _, high = text.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _min_max_covers(low: Any, high: Any, port: int) -> bool:
    """OpenStack/OVH `portRangeMin`/`portRangeMax`; both absent means every port."""
    if low in (None, 0) and high in (None, 0):
        return True
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return int(low) <= port <= int(high)


@dataclass(frozen=True)
class Ingress:
    """One inbound rule, whatever the cloud: which ports, from where."""

    protocol: str
    covers: Callable[[int], bool]
    sources: tuple[Any, ...]  # CIDRs; also non-address sources (load balancer, tag)


def ingress_rules(res: Res) -> list[Ingress]:
    """Inbound rules of a DigitalOcean firewall, OVH security group or OpenStack rule."""
    rules: list[Ingress] = []
    if res.type == DO_FIREWALL:
        for rule in res.get("inboundRules") or []:
            if not isinstance(rule, dict):
                continue
            port_range = rule.get("portRange")
            rules.append(
                Ingress(
                    str(rule.get("protocol", "")).lower(),
                    lambda port, pr=port_range: _port_range_covers(pr, port),
                    tuple(rule.get("sourceAddresses") or ()),
                )
            )
    elif res.type == OVH_SECURITY_GROUP:
        for rule in res.get("rules") or []:
            if isinstance(rule, dict) and str(rule.get("direction", "")).upper() == "INGRESS":
                rules.append(_openstack_ingress(rule))
    elif res.type == OS_SECGROUP_RULE and str(res.get("direction", "")).lower() == "ingress":
        rules.append(_openstack_ingress(res.props))
    return rules


def _openstack_ingress(rule: dict[str, Any]) -> Ingress:
    """OpenStack semantics: no protocol = any protocol, no remote prefix = anywhere."""
    low, high = rule.get("portRangeMin"), rule.get("portRangeMax")
    remote = rule.get("remoteIpPrefix")
    group = rule.get("remoteGroupId")
    sources = (remote,) if remote else (() if group else ("0.0.0.0/0",))
    return Ingress(
        str(rule.get("protocol") or "any").lower(),
        lambda port: _min_max_covers(low, high, port),
        sources,
    )


def tcp(rule: Ingress) -> bool:
    """TCP, or a rule that names no protocol and so admits TCP too."""
    return rule.protocol in ("tcp", "any", "")
