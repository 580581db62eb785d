"""Differences a reviewer reads: plan against plan, as pull-request markdown."""

from pyscale.diff.plans import MAX_LISTED, Diff, Plan, diff, load, render

__all__ = ["MAX_LISTED", "Diff", "Plan", "diff", "load", "render"]
