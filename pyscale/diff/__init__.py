"""Differences a reviewer reads: plan against plan, as pull-request markdown (from two plan
documents, or from two git refs planned here); and the URNs of a deployed stack that a new
program would lose (replace) rather than keep."""

from pyscale.diff import markdown, topology
from pyscale.diff.markdown import COMMENT_LIMIT
from pyscale.diff.plans import MAX_LISTED, Diff, Plan, diff, load, render
from pyscale.diff.refs import RefError, comment
from pyscale.diff.urns import unaccounted

__all__ = [
    "COMMENT_LIMIT",
    "MAX_LISTED",
    "Diff",
    "Plan",
    "RefError",
    "comment",
    "diff",
    "load",
    "markdown",
    "render",
    "topology",
    "unaccounted",
]
