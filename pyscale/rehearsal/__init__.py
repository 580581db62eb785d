"""The node as it boots: a stack's rendered user-data run, unchanged, by real cloud-init
under real systemd, in a container standing in for the cloud's image (pyscale node boot)."""

from pyscale.rehearsal.boot import Rehearsal, boot
from pyscale.rehearsal.report import BootReport

__all__ = ["BootReport", "Rehearsal", "boot"]
