"""Differences a reviewer reads: plan against plan, as pull-request markdown; and the URNs
of a deployed stack that a new program would lose (replace) rather than keep."""

from pyscale.diff.plans import MAX_LISTED, Diff, Plan, diff, load, render
from pyscale.diff.urns import unaccounted

__all__ = ["MAX_LISTED", "Diff", "Plan", "diff", "load", "render", "unaccounted"]
