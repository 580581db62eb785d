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
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings


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
class LoadBalancerChoice:
    """The load balancer a cloud sizes for a number of connections."""

    size: str  # DigitalOcean: size units as a string; OVHcloud: flavor name
    size_unit: int  # DigitalOcean size_unit (0 where the cloud sizes by flavor)
    max_connections: int
    max_size_unit: int  # the provider's ceiling on size_unit (0 where there is none)


Sized = TypeVar("Sized", MachineSize, DatabaseSize, CacheSize)


def index(*items: Sized) -> dict[str, Sized]:
    """A size table keyed by name, in the order given (smallest first)."""
    return {item.name: item for item in items}


@dataclass(frozen=True)
class Catalog:
    """What a cloud sells, as the capacity model and the settings need it."""

    machines: Mapping[str, MachineSize]
    databases: Mapping[str, DatabaseSize]
    caches: Mapping[str, CacheSize]
    regions: tuple[str, ...]
    database_versions: tuple[str, ...]
    cache_versions: tuple[str, ...]
    # pyscale:nodeImage key (pyscale/nodeos.py) -> the cloud's image reference.
    images: Mapping[str, str]


@dataclass(frozen=True)
class Defaults:
    """What a stack on this cloud gets when it does not say: per environment where it varies."""

    region: str
    node_size: Mapping[str, str]
    database_size: Mapping[str, str]
    cache_size: Mapping[str, str]
    # Valkey's maxmemory-policy; None where the cloud does not let clients set it.
    eviction_policy: str | None


@dataclass(frozen=True)
class Line:
    """One line of a monthly estimate: `quantity` x `unit_monthly`."""

    item: str
    size: str
    quantity: int
    unit_monthly: float

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.unit_monthly, 2)


@dataclass(frozen=True)
class Estimate:
    """A monthly cost estimate from a dated list-price table."""

    currency: str
    as_of: str
    lines: tuple[Line, ...]

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
    # The load balancer sized for `connections` simultaneous connections.
    load_balancer: Callable[[int], LoadBalancerChoice]
    # The monthly estimate of a plan.
    estimate: Callable[[Settings, CapacityPlan], Estimate]
    # Realistic answers for the offline engine: `new_resource(type, name, inputs)` and
    # `call(token, args)`, each None for what it does not know (pyscale.offline.mocks).
    mocks: ModuleType
    # The module holding this cloud's `WebStack` component (components/<cloud>/).
    components: str
    # Which settings it applies, requires or limits further (pyscale/settings reads these).
    settings: SettingsRules
