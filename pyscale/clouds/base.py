"""What a cloud is to pyscale: its catalog, its defaults, its prices and its few behaviours.

The neutral core (settings, capacity, pricing, rendering, the offline engine) asks a `Cloud`
instead of testing the cloud's name, so adding a cloud means a folder under pyscale/clouds/
(catalog, pricing, mock answers) and one under components/ (its WebStack), registered in
pyscale/clouds/__init__.py, with no edit to the core.

Catalog entries are facts about the providers, not choices of ours: each table names its
source in the cloud's own catalog module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.rollout.gate import NodeApi
    from pyscale.settings import Settings

# A project CA certificate as both clouds hand it out (PEM, RSA 3072, "<uuid> Project CA"):
# what the mocks answer to the CA look-ups, and the offline render's placeholder. Made for
# pyscale (its key was thrown away): nothing trusts it.
EXAMPLE_CA = Path(__file__).with_name("example_ca.pem").read_text()


@dataclass(frozen=True)
class MachineSize:
    """A droplet size or instance flavor: what the node's numbers are derived from."""

    name: str
    vcpus: int
    memory_gib: int


@dataclass(frozen=True)
class DatabaseSize:
    """A managed PostgreSQL size and the connections its server admits for clients."""

    name: str
    vcpus: int
    memory_gib: int
    max_connections: int


@dataclass(frozen=True)
class CacheSize:
    """A managed Valkey size and the client connections it admits (maxclients)."""

    name: str
    memory_gib: int
    max_clients: int


@dataclass(frozen=True)
class LoadBalancerSize:
    """One step of load-balancer capacity: a DigitalOcean size unit or an OVH flavor."""

    name: str
    max_connections: int
    requests_per_second: int
    new_tls_per_second: int


@dataclass(frozen=True)
class LoadBalancerDemand:
    """What the load balancer must carry: simultaneous connections (with headroom), requests
    per second, and new TLS connections per second it terminates (0 when it passes TLS
    through or serves plain HTTP)."""

    connections: int
    requests_per_second: int
    new_tls_per_second: int


@dataclass(frozen=True)
class LoadBalancerChoice:
    """The load balancer a cloud sizes for a number of connections."""

    size: str  # DigitalOcean: size units as a string; OVHcloud: flavor name
    size_unit: int  # DigitalOcean size_unit (0 where the cloud sizes by flavor)
    max_connections: int
    max_size_unit: int  # the provider's ceiling on size_unit (0 where there is none)
    # What the provider says the chosen size forwards each second: HTTP requests, and new
    # TLS handshakes (the costly part of a connection that the LB terminates).
    requests_per_second: int
    new_tls_per_second: int
    # The size each demand alone would need ("connections", "rps", "tls"): DigitalOcean size
    # units, OVHcloud flavor names. The largest of them is the size chosen.
    sized_for: Mapping[str, int | str] = field(default_factory=dict)


Sized = TypeVar("Sized", MachineSize, DatabaseSize, CacheSize)


def index(*items: Sized) -> dict[str, Sized]:
    """A size table keyed by name, in the order given (smallest first)."""
    return {item.name: item for item in items}


@dataclass(frozen=True)
class Fact:
    """What a provider does that its schema does not say, and where that is written: settings
    quote it when they refuse a value, the plan's prerequisites and docs/providers.md read it."""

    what: str
    source: str

    def __str__(self) -> str:
        return f"{self.what} ({self.source})"


@dataclass(frozen=True)
class Limit:
    """A ceiling the provider puts on a number pyscale derives (settings and the capacity
    plan both check it), with why."""

    value: int
    fact: Fact


@dataclass(frozen=True)
class InputRule:
    """A provider rule on one input of one resource type that the provider's schema does not
    carry (an enum behind a plain string, a range, where a service is offered), checked
    against what the program registers (pyscale/offline/conformance.py)."""

    type: str  # the resource type token: "digitalocean:index/droplet:Droplet"
    path: str  # the input, dotted; `name[]` means every element: "nodes[].region"
    fact: Fact
    allowed: tuple[str | int, ...] = ()  # empty: any value within the range
    minimum: float | None = None
    maximum: float | None = None
    # Other inputs that select the resources it governs: {"engine": "pg"}.
    when: Mapping[str, Any] = field(default_factory=dict)

    def problem(self, value: Any) -> str | None:
        """Why the provider would refuse `value`; None when it would take it."""
        if self.allowed and value not in self.allowed:
            return f"{value!r} is not one the provider takes ({', '.join(map(str, self.allowed))})"
        if self.minimum is not None and value < self.minimum:
            return f"{value!r} is below the provider's minimum {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return f"{value!r} is above the provider's maximum {self.maximum}"
        return None


@dataclass(frozen=True)
class Prerequisite:
    """One thing the account must have before `pulumi up`: what, why, and how. pyscale
    creates every resource of a stack, but a few things live in the account (a state
    backend, credentials, DNS, uploaded certificates, verified alert addresses, quotas), and
    an operator should learn them before an update fails halfway."""

    what: str
    why: str
    how: str  # a command, or the console page
    when: str = "before the first pulumi up"

    def to_dict(self) -> dict[str, str]:
        return {"what": self.what, "why": self.why, "how": self.how, "when": self.when}


@dataclass(frozen=True)
class Catalog:
    """What a cloud sells, as the capacity model and the settings need it: only what a stack
    can really be built with (what the provider lists but would refuse is a `Refusal` in the
    cloud's settings rules, so that the message says why)."""

    machines: Mapping[str, MachineSize]
    databases: Mapping[str, DatabaseSize]
    caches: Mapping[str, CacheSize]
    # Regions with everything a stack needs: instances, managed PostgreSQL and Valkey, and
    # the load balancer as the stack sizes it.
    regions: tuple[str, ...]
    database_versions: tuple[str, ...]
    cache_versions: tuple[str, ...]
    # pyscale:nodeImage key (pyscale/nodeos.py) -> the cloud's image reference.
    images: Mapping[str, str]
    # Where PostgreSQL read replicas may live (empty where they are in the stack's region).
    replica_regions: tuple[str, ...]
    # The Valkey maxmemory-policy values a client may set (empty: none).
    eviction_policies: tuple[str, ...]
    # The maxmemory-policy the managed Valkey runs with when nobody sets one.
    engine_eviction_policy: str
    # The most nodes the cloud's wiring admits (DigitalOcean: the databases' trusted
    # sources); None where it sets no such ceiling.
    max_nodes: Limit | None
    # Managed Kubernetes minor versions a new cluster can be created with (platform:
    # kubernetes), each with its source in the cloud's catalog.
    kubernetes_versions: tuple[str, ...]
    # Autoscale on VMs: seconds the cloud's pool waits from a member's shutdown to its
    # destruction (its drain must fit); None where VMs do not scale (settings refuse it).
    pool_shutdown_s: int | None = None


@dataclass(frozen=True)
class Defaults:
    """What a stack on this cloud gets when it does not say: per environment where it varies."""

    region: str
    node_size: Mapping[str, str]
    database_size: Mapping[str, str]
    cache_size: Mapping[str, str]
    monitor_size: str  # the monitoring node, in every environment that runs one
    # Valkey's maxmemory-policy; None where the cloud does not let clients set it.
    eviction_policy: str | None
    kubernetes_version: str  # the newest minor both the cloud and the schemas pyscale pins know


@dataclass(frozen=True)
class PriceSource:
    """Where a unit price was read, on which day, and how the cloud bills it. Prices move and
    clouds bill the same thing differently (hourly, monthly, a share of another item), so an
    estimate line says which page and which billing it assumes, not just a number."""

    url: str
    as_of: str  # the day the price was read, YYYY-MM-DD
    billing: str  # how the cloud bills it and how the line turns that into a month


@dataclass(frozen=True)
class Line:
    """One line of a monthly estimate: `quantity` x `unit_monthly`, priced from `source`."""

    item: str
    size: str
    quantity: int
    unit_monthly: float
    source: PriceSource

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.unit_monthly, 2)


@dataclass(frozen=True)
class Estimate:
    """A monthly cost estimate from dated list prices; `as_of` is the oldest line's date, the
    age of the estimate as a whole."""

    currency: str
    lines: tuple[Line, ...]

    @property
    def as_of(self) -> str:
        return min(line.source.as_of for line in self.lines)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "as_of": self.as_of,
            "total": self.total,
            "lines": [
                {
                    "item": line.item,
                    "size": line.size,
                    "quantity": line.quantity,
                    "unit_monthly": line.unit_monthly,
                    "monthly": line.monthly,
                    "billing": line.source.billing,
                    "source": line.source.url,
                    "as_of": line.source.as_of,
                }
                for line in self.lines
            ],
        }


@dataclass(frozen=True)
class SettingRule:
    """A limit on one setting's value that its declared range cannot say: it depends on other
    settings or on this cloud. pyscale/settings runs it once every value is read, and skips it
    when a setting it reads was already refused (one mistake, one message)."""

    key: str  # the setting blamed (dotted: "database.readReplicas")
    needs: tuple[str, ...]  # the other settings `refuse` reads
    doc: str  # one line for the reference table
    # Why the value cannot be, naming what to do instead; None when it can be. It receives
    # every setting read so far, by dotted key, as parsed (sizes are catalog entries).
    refuse: Callable[[Mapping[str, Any]], str | None]
    # The same limit in JSON Schema where one fragment can say it ({"maxItems": 1}), for the
    # stack-file schema; empty when it cannot.
    schema: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """Values of one setting that the provider lists, or once did, but would refuse or
    silently not apply on this cloud. They are left out of the catalog's choices; this says
    why, so that a stack holding one is told the provider's rule and its source."""

    key: str  # dotted: "database.version"
    values: tuple[str, ...]
    fact: Fact


@dataclass(frozen=True)
class DerivedDefault:
    """A default this cloud computes from other settings instead of the declared one."""

    key: str
    needs: tuple[str, ...]
    doc: str  # for the reference table: what the default is on this cloud
    value: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class SettingsRules:
    """What this cloud does with the neutral settings (pyscale/settings) beyond its catalog.

    A setting the cloud's wiring does not apply is listed in `ignored`, so that a stack that
    sets it is refused instead of deploying something other than it says.
    """

    # Dotted keys, or a whole group such as "alerts", each with why and what to do instead.
    ignored: Mapping[str, str]
    # Settings a stack on this cloud must set.
    required: tuple[str, ...] = ()
    derived_defaults: tuple[DerivedDefault, ...] = ()
    rules: tuple[SettingRule, ...] = ()
    refused: tuple[Refusal, ...] = ()
    # What the cloud demands of a setting's value that pyscale cannot check from here, by
    # dotted key: the reference table says it, the plan lists it as a prerequisite.
    unchecked: Mapping[str, Fact] = field(default_factory=dict)

    def refusal(self, key: str, value: Any) -> Refusal | None:
        """Why the provider would not take `value` for `key`, when it is a known refusal."""
        return next((r for r in self.refused if r.key == key and str(value) in r.values), None)

    def ignores(self, key: str) -> bool:
        """True when `key` (dotted) is not applied here, itself or as part of its group."""
        return any(key == k or key.startswith(f"{k}.") for k in self.ignored)

    def why_ignored(self, key: str) -> str:
        """Why `key` is not applied here and what to do instead (it must be ignored)."""
        return next(v for k, v in self.ignored.items() if key == k or key.startswith(f"{k}."))


@dataclass(frozen=True)
class Cloud:
    """One cloud, as the neutral core sees it."""

    name: str  # the `pyscale:cloud` value
    title: str  # for people: "DigitalOcean"
    catalog: Catalog
    defaults: Defaults
    # TLS modes its load balancer supports (settings: pyscale:tls).
    tls_modes: tuple[str, ...]
    # The most user-data the cloud accepts, in bytes (checked when rendering).
    user_data_limit: int
    # Read endpoints the app gets for `replicas` read replicas.
    read_endpoints: Callable[[int], int]
    # The load balancer sized for a demand (connections, requests/s, new TLS/s).
    load_balancer: Callable[[LoadBalancerDemand], LoadBalancerChoice]
    # The monthly estimate of a plan.
    estimate: Callable[[Settings, CapacityPlan], Estimate]
    # Realistic answers for the offline engine: `new_resource(type, name, inputs)` and
    # `call(token, args)`, each None for what it does not know (pyscale.offline.mocks).
    mocks: ModuleType
    # The module holding this cloud's `WebStack` component (components/<cloud>/).
    components: str
    # Its Pulumi provider: the package name its type tokens start with, and the Python SDK
    # (the conformance check derives the provider's input schema from it).
    provider: str
    sdk: str
    # Which settings it applies, requires or limits further (pyscale/settings reads these).
    settings: SettingsRules
    # What the account must have before `pulumi up` (pyscale/prerequisites.py adds the
    # ones every cloud shares).
    prerequisites: Callable[[Settings, CapacityPlan], list[Prerequisite]]
    # The provider's rules on registered inputs beyond its schema (the conformance check).
    provider_rules: tuple[InputRule, ...]
    # The rollout gate's view of the cloud (pyscale/rollout/gate.py): node health behind
    # the load balancer and a graceful stop, for a gate's target (its load balancer, pool
    # members, project), with the credentials the Pulumi provider reads from the environment.
    node_api: Callable[[Mapping[str, Any], Mapping[str, str]], NodeApi]
    # Type token -> the inputs whose change makes the provider replace the resource (its
    # ForceNew fields): `pyscale diff` names such a change a replacement.
    replacing_inputs: Mapping[str, frozenset[str]]
    # How Prometheus finds the nodes: (settings, exporter port, credentials) -> the
    # discovery block and relabelling of one scrape job (pyscale/monitoring/scrape.py).
    scrape_discovery: Callable[[Settings, int, Mapping[str, str]], tuple[dict, list[dict]]]
    # The credentials an offline render writes in place of the real ones.
    scrape_placeholder: Mapping[str, str]
    # The secret setting a monitoring node needs for its discovery, where the provider
    # cannot make the credential itself (DigitalOcean: a read-only API token); None when
    # the stack creates it.
    monitor_secret: str | None
    # platform: kubernetes: the annotations the cloud's controller reads on the gateway's
    # Service to make the load balancer the plan sized (pyscale/clouds/<cloud>/kubernetes.py).
    gateway_annotations: Callable[[Settings, CapacityPlan], dict[str, str]]
