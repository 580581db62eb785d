"""What the rehearsal must do differently from a cloud node, because of where it runs.

A rehearsal node is a podman container on this machine, not a VM: the kernel, /proc/sys and
the descriptor ceiling are the host's. Each difference below is forced by that, kept as
small as it can be, and printed in every boot report (and docs/architecture.md):
nothing else about the node is changed, and the user-data runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Certificates this machine's egress proxy signs with (a sandbox's transparent TLS proxy);
# absent on an ordinary machine, where the list is empty.
EGRESS_CA_DIR = Path("/usr/local/share/ca-certificates")
# The state the sysctl shim leaves for the report.
HOST_WIDE_SYSCTLS = "/var/lib/pyscale-rehearsal/sysctl-host-wide"


@dataclass(frozen=True)
class Difference:
    """One way the rehearsal node differs from a cloud node, and why it must."""

    what: str
    why: str


DIFFERENCES = (
    Difference(
        "the user-data arrives through a NoCloud seed, not the cloud's metadata service",
        "no metadata service runs here; cloud-init reads the same document either way",
    ),
    Difference(
        "net.* sysctls are set when the container is created, from the rendered "
        "/etc/sysctl.d file; the node's `sysctl --system` is a shim that checks each one "
        "holds and fails the boot when one does not",
        "/proc/sys is read-only inside a container; net.* are per network namespace",
    ),
    Difference(
        "fs.* (and other host-wide) sysctls are recorded, never written",
        "they would change this machine, not the node",
    ),
    Difference(
        "descriptor limits are capped at this machine's hard limit by a drop-in per unit",
        "no process here may raise RLIMIT_NOFILE above the host's hard limit",
    ),
    Difference(
        "the hostname is set by podman (cloud-init keeps it)",
        "a container may not change its UTS name",
    ),
    Difference(
        "the container gets CAP_SYS_ADMIN and systemd is told to accept cgroup v1",
        "systemd needs it to sandbox units (ProtectSystem=, PrivateTmp=); this host mounts "
        "cgroup v1, which systemd 256+ refuses unless forced",
    ),
    Difference(
        "the image trusts this machine's egress CA and the rehearsal's own CA",
        "HTTPS leaves this machine through a TLS proxy; the local data stores' certificates "
        "are signed by a CA made here",
    ),
    Difference(
        "PostgreSQL (primary + streaming replica), PgBouncer and Valkey are local containers "
        "with TLS, on the stack's VPC range",
        "the managed services exist only in the cloud",
    ),
)


def egress_cas() -> list[Path]:
    """This machine's extra trusted CAs (empty on a machine without an egress proxy)."""
    return sorted(EGRESS_CA_DIR.glob("*.crt")) if EGRESS_CA_DIR.is_dir() else []


# The shim installed as /usr/local/sbin/sysctl (first on cloud-init's PATH). Reads and any
# other use go to the real sysctl.
SYSCTL_SHIM = r"""#!/bin/sh
# pyscale rehearsal: /proc/sys is read-only in a container. `sysctl --system` checks that
# every net.* value of /etc/sysctl.d/*.conf already holds in this network namespace (set at
# container creation) and records the host-wide keys it will not write; anything else runs
# the real sysctl.
[ "${1:-}" = "--system" ] || exec /usr/sbin/sysctl "$@"
record=__HOST_WIDE__
mkdir -p "$(dirname "$record")"
: >"$record"
status=0
for file in /etc/sysctl.d/*.conf; do
  [ -f "$file" ] || continue
  echo "* Checking $file (pyscale rehearsal)"
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*|';'*) continue ;; esac
    key=$(echo "${line%%=*}" | tr -d ' \t' | sed 's/^-//')
    want=$(echo "${line#*=}" | tr -s ' \t' ' ' | sed 's/^ //; s/ $//')
    case "$key" in
      net.*)
        have=$(tr -s ' \t' ' ' <"/proc/sys/$(echo "$key" | tr . /)" 2>/dev/null | sed 's/ $//')
        if [ "$have" != "$want" ]; then
          echo "sysctl: $key is '$have' here, $file wants '$want'" >&2
          status=1
        fi ;;
      *) echo "$key=$want" >>"$record" ;;
    esac
  done <"$file"
done
exit $status
""".replace("__HOST_WIDE__", HOST_WIDE_SYSCTLS)
