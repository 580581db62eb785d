"""The two images a rehearsal needs, as recipes (pyscale.rehearsal.images builds them)."""

from __future__ import annotations

from pathlib import Path

from pyscale.rehearsal import sandbox
from pyscale.rehearsal.images import BakedFile, Recipe
from pyscale.render.cloudinit import BROTLI_PACKAGES

# What the clouds' Debian images carry besides a minimal system (DigitalOcean: "cloud-init
# and openssh-server are provided by default in the base images"): the node's own packages
# come from its user-data, so a missing one fails here as it would in the cloud.
NODE_PACKAGES = ("systemd-sysv", "dbus", "cloud-init", "openssh-server", "sudo", "iproute2",
                 "procps")  # fmt: skip
# Everything a rehearsal runs besides the node, from Debian trixie: the managed data stores'
# stand-ins (PostgreSQL 17 and Valkey 8, the versions the shipped stacks ask for), the ACME
# server, and the node's own tools at the node's versions (Nginx 1.26, Python 3.13) to
# validate rendered files with (Nginx with the Brotli modules a node installs with
# edge.brotli), plus testssl.sh for the TLS listener.
TOOLBOX_RELEASE = "trixie"
TOOLBOX_PACKAGES = ("postgresql", "pgbouncer", "valkey-server", "pebble", "openssl", "procps",
                    "iproute2", "nginx", *BROTLI_PACKAGES, "python3-venv", "libpq5",
                    "testssl.sh", "bsdextrautils")  # fmt: skip
# gixy-ng (Nginx security linter, PyPI) in its own virtualenv, at the version the host pins.
GIXY = "gixy-ng==0.2.59"
TOOLBOX_SETUP = f"python3 -m venv /opt/gixy && /opt/gixy/bin/pip install -q {GIXY}"
# Where certbot on a rehearsal node finds the local ACME server (pebble), by name.
ACME_HOST = "acme.pyscale-rehearsal.internal"
ACME_PORT = 14000

CLOUD_CFG = """\
# pyscale rehearsal: the user-data comes from a NoCloud seed; podman configures the network
# and the hostname, which a container may not change.
datasource_list: [NoCloud, None]
network: {config: disabled}
preserve_hostname: true
"""
# certbot asks the rehearsal's ACME server (pebble) instead of Let's Encrypt.
CERTBOT_CLI_INI = f"server = https://{ACME_HOST}:{ACME_PORT}/dir\n"


def _limit_dropin(nofile: int) -> str:
    return (
        "# pyscale rehearsal: no process here may raise RLIMIT_NOFILE above the host's hard\n"
        f"# limit; the rendered LimitNOFILE is reported against the plan instead.\n"
        f"[Service]\nLimitNOFILE={nofile}\n"
    )


def node(release: str, host_nofile: int, ca: Path) -> Recipe:
    """The cloud image's stand-in for a node on Debian `release`."""
    why_limit = "descriptor limits are capped at this machine's hard limit"
    return Recipe(
        name="node",
        release=release,
        packages=NODE_PACKAGES,
        files=(
            BakedFile(
                "/etc/cloud/cloud.cfg.d/90-pyscale-rehearsal.cfg",
                CLOUD_CFG,
                0o644,
                "NoCloud seed; podman owns network and hostname",
            ),
            BakedFile(
                "/usr/local/sbin/sysctl",
                sandbox.SYSCTL_SHIM,
                0o755,
                "/proc/sys is read-only in a container",
            ),
            BakedFile(
                "/etc/systemd/system/pyscale.service.d/zz-pyscale-rehearsal.conf",
                _limit_dropin(host_nofile),
                0o644,
                why_limit,
            ),
            BakedFile(
                "/etc/systemd/system/nginx.service.d/zz-pyscale-rehearsal.conf",
                _limit_dropin(host_nofile),
                0o644,
                why_limit,
            ),
            BakedFile(
                "/etc/letsencrypt/cli.ini",
                CERTBOT_CLI_INI,
                0o644,
                "certificates come from the local ACME server",
            ),
        ),
        cas=(ca,),
    )


def toolbox(ca: Path) -> Recipe:
    """The data stores, pebble, and the node's tools at the node's versions."""
    return Recipe(
        name="toolbox",
        release=TOOLBOX_RELEASE,
        packages=TOOLBOX_PACKAGES,
        cas=(ca,),
        setup=TOOLBOX_SETUP,
    )
