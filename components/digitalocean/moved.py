"""Where the DigitalOcean resources were before the parts existed: under the WebStack itself.

Until issue 12 every DigitalOcean resource was created as a direct child of the WebStack;
now each one sits under its part (Network, Nodes, Database, ...). A URN carries the types of
all of a resource's ancestors, so the move changes every URN, and a changed URN with no
alias is, to `pulumi up`, one resource deleted and another created: droplets, load balancer
and database clusters replaced, data lost. An alias naming the old URN (same type and name,
the WebStack as parent) makes the engine move the resource in its state instead.

The aliases may go once every deployed stack has run `pulumi up` with the parts (the state
then holds the new URNs), not before; tests/stacks/test_urns.py holds them to the URNs the
shipped stacks had (tests/stacks/urns/).
"""

from __future__ import annotations

from typing import Any

import pulumi


def child_options(
    part: pulumi.ComponentResource, opts: pulumi.ResourceOptions | None, **options: Any
) -> pulumi.ResourceOptions:
    """Options for a child of `part`: parented to it, and aliased to the URN it had as a
    direct child of the part's own parent (`opts.parent`, the WebStack)."""
    former_parent = opts.parent if opts is not None else None
    return pulumi.ResourceOptions(
        parent=part, aliases=[pulumi.Alias(parent=former_parent)], **options
    )
