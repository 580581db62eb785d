"""The pyscale policy pack, served to `pulumi preview/up --policy-pack policy`.

Constructing `PolicyPack` starts the gRPC server and blocks, so it happens only here; tests
and `pyscale plan` import policy.rules / policy.offline instead.
The CLI runs this file from the pack's directory, where `rules` and `engine` are top-level
modules (there is no `policy` package on that path).
"""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine
import rules

engine.keep_secret_markers()
PolicyPack(
    name="pyscale",
    policies=rules.POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
)
