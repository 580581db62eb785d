"""Zero-downtime node rollouts: how nodes are replaced (plan), the gate a replaced node's
successor must pass before the old one leaves (gate), and how a leaving node drains.

Pure: no Pulumi, no cloud SDK. The Pulumi program runs the gate through a dynamic provider
(components/gate.py); `bench.rollout` runs the same gate against a local load balancer.
"""

from pyscale.rollout.gate import (
    Gate,
    GateTimeout,
    HealthProbe,
    NodeApi,
    Observation,
    ProbeError,
    wait_until_healthy,
)
from pyscale.rollout.plan import LB_HEALTH, HealthCheckTiming, RolloutPlan, rollout_plan

__all__ = [
    "LB_HEALTH",
    "Gate",
    "GateTimeout",
    "HealthCheckTiming",
    "HealthProbe",
    "NodeApi",
    "Observation",
    "ProbeError",
    "RolloutPlan",
    "rollout_plan",
    "wait_until_healthy",
]
