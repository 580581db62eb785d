"""One stack's node, booted for real: its rendered user-data, unchanged, through cloud-init
under systemd in a container that stands in for the cloud's image, on a bridge network in
the stack's VPC range, with the data stores it expects.

`boot` builds (or reuses) the images, starts the data stores, renders the node's user-data
with their connection strings, boots the node from a NoCloud seed, waits for cloud-init,
reads what the node applied and sends requests through it. Unless asked to keep them, the
containers and the network are removed whatever happened.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import yaml

from pyscale import capacity, nodeos, render
from pyscale.rehearsal import images, recipes, tls, tlscheck
from pyscale.rehearsal.inspect import REQUESTS, Node, metrics_probe, probes, public_probes
from pyscale.rehearsal.podman import Podman, host_nofile
from pyscale.rehearsal.report import BootReport, Probe
from pyscale.rehearsal.services import SERVICES, Addresses, DataStores
from pyscale.settings import Settings

CACHE = Path(os.environ.get("PYSCALE_CACHE", "/var/cache/pyscale"))
STATE = Path(os.environ.get("PYSCALE_REHEARSAL_STATE", "/tmp/pyscale-rehearsal"))
# systemd 256+ refuses a cgroup v1 host unless forced; in a container it reads this from
# its own command line.
INIT = ("/sbin/init", "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1")
CLOUD_INIT_TIMEOUT_S = 600
SYSCTL_FILE = "/etc/sysctl.d/60-pyscale.conf"


class NotRehearsable(ValueError):
    """The stack's node OS cannot be reproduced on this machine."""


def _net_sysctls(rendered: render.RenderedNode) -> list[str]:
    """`--sysctl` arguments for the namespaced keys of the node's own sysctl file: what its
    `sysctl --system` would write, applied where a container can."""
    args = []
    for line in rendered.file(SYSCTL_FILE).content.splitlines():
        key, _, value = line.partition("=")
        if value and key.strip().startswith("net."):
            args += ["--sysctl", f"{key.strip()}={' '.join(value.split())}"]
    return args


class Rehearsal:
    """Everything one boot starts, so that it can all be removed."""

    def __init__(self, settings: Settings, state: Path = STATE, cache: Path = CACHE) -> None:
        os = settings.node_os
        if os.debian_release is None:
            raise NotRehearsable(
                f"pyscale:nodeImage = {os.key!r}: {os.title} cannot be rehearsed here "
                "(its package archive is not reachable from this machine); rehearsable: "
                + ", ".join(k for k, o in nodeos.SYSTEMS.items() if o.rehearsable)
            )
        self.settings, self.release = settings, os.debian_release
        self.state = state / settings.stack
        self.podman = Podman(state)
        self.cache = cache
        self.prefix = f"pyscale-rehearsal-{settings.stack}"
        self.network = self.prefix
        self.node_name = f"{self.prefix}-node"
        self.at = Addresses.of(settings.vpc_cidr)
        self.stores: DataStores | None = None
        # What happens to the rendered node before it boots: nothing, except in the tests
        # that break a template on purpose.
        self.transform: Callable[[render.RenderedNode], render.RenderedNode] = lambda r: r

    def images(self) -> tuple[str, str, tuple[Path, Path]]:
        ca = tls.ca(self.cache)
        node = images.build(self.podman, recipes.node(self.release, host_nofile(),
                                                      ca[0]))  # fmt: skip
        toolbox = images.build(self.podman, recipes.toolbox(ca[0]))
        return node, toolbox, ca

    def boot(self, testssl: bool = False) -> BootReport:
        """Boot the node and read it; `testssl` also grades a TLS listener (about 40 s)."""
        started = time.monotonic()
        plan = capacity.plan(self.settings)
        node_image, toolbox_image, ca = self.images()
        self.remove()
        self.podman.network(self.network, self.at.cidr, self.at.gateway)
        self.stores = DataStores(self.podman, toolbox_image, self.network, self.prefix,
                                 self.at, plan, self.state, ca)  # fmt: skip
        secrets = self.stores.start()
        if self.settings.tls == "node":
            self.stores.start_acme()
        rendered = self.transform(render.node(plan, self.settings, secrets))
        hostname = f"{self.settings.resource_prefix}-node-1"
        seed = self.state / "seed"
        seed.mkdir(parents=True, exist_ok=True)
        (seed / "user-data").write_text(rendered.user_data)
        (seed / "meta-data").write_text(yaml.safe_dump(
            {"instance-id": f"{hostname}-rehearsal", "local-hostname": hostname}))  # fmt: skip
        self.podman.run(
            "run", "-d", "--name", self.node_name, "--hostname", hostname,
            "--network", self.network, "--ip", self.at.node, "--systemd=always",
            "--cap-add", "SYS_ADMIN", "--add-host", f"{recipes.ACME_HOST}:{self.at.acme}",
            *_net_sysctls(rendered), "-v", f"{seed}:/var/lib/cloud/seed/nocloud:ro",
            node_image, *INIT,
        )  # fmt: skip
        node = Node(self.podman, self.node_name)
        status = self._wait(node)
        host = self.settings.domain or "localhost"
        if self.settings.tls == "node":
            tls_report, node_probes = self._tls(node, host, ca[0], toolbox_image, testssl)
        else:
            tls_report = None
            node_probes = probes(self.at.node, host) + public_probes(
                self.at.node, host, plan.edge.private_demo_routes
            )
        # The requests above, counted by the app and served on the private address.
        node_probes = [*node_probes, metrics_probe(self.at.node)]
        return BootReport(
            stack=self.settings.stack,
            image=node_image,
            node_address=self.at.node,
            cloud_init=node.cloud_init(status),
            units=node.units(),
            failed_units=node.failed_units(),
            tuned=node.tuned(plan),
            probes=node_probes,
            bootstrap_failure=node.bootstrap_failure(),
            seconds=round(time.monotonic() - started, 1),
            tls=tls_report,
            drain=node.drain(self.at.node) if status.get("status") == "done" else None,
        )

    def _tls(
        self, node: Node, domain: str, ca: Path, toolbox: str, testssl: bool
    ) -> tuple[dict, list[Probe]]:
        """A node terminating TLS: every request over HTTPS with the ACME root trusted, the
        redirect from HTTP, a forced renewal, and optionally testssl.sh."""
        address = self.at.node
        try:
            root = tlscheck.acme_root(self.at.acme, ca)
            served = tlscheck.served(address, domain, root)
        except (OSError, ssl.SSLError) as error:
            failed = Probe("GET", "https (certificate)", 0, False, str(error))
            return {"error": str(error)}, [failed]
        checks = [tlscheck.https(address, domain, root, method, path)
                  for method, path, _ in REQUESTS]  # fmt: skip
        checks += [tlscheck.redirect(address, domain), tlscheck.renew(node, address, domain, root)]
        report: dict = {"served": asdict(served)}
        if testssl:
            report["testssl"] = tlscheck.testssl(self.podman, toolbox, self.network, address,
                                                 domain)  # fmt: skip
        return report, checks

    def _wait(self, node: Node) -> dict:
        deadline = time.monotonic() + CLOUD_INIT_TIMEOUT_S
        status: dict = {}
        while time.monotonic() < deadline:
            status = node.cloud_init_status()
            if status.get("status") in ("done", "error", "disabled"):
                return status
            time.sleep(1)
        return status | {"status": f"still {status.get('status')} after "
                                   f"{CLOUD_INIT_TIMEOUT_S} s"}  # fmt: skip

    def remove(self) -> None:
        """Remove this stack's rehearsal containers and network, whatever is left."""
        services = [f"{self.prefix}-{service}" for service in SERVICES]
        self.podman.remove([self.node_name, *services])
        self.podman.remove_network(self.network)


def boot(settings: Settings, *, keep: bool = False, testssl: bool = False) -> BootReport:
    """Boot the stack's node; the containers stay up when `keep` (remove with `remove`)."""
    rehearsal = Rehearsal(settings)
    try:
        return rehearsal.boot(testssl=testssl)
    finally:
        if not keep:
            rehearsal.remove()
