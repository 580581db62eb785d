"""The `app.interface` setting: whether the nodes serve a WSGI app on gevent or an ASGI app
on uvicorn, and the two defaults that follow from it (the embedded demo app's module and its
calibrated CPU cost per request). Declared here, beside the rest (declarations.py includes it
in `SETTINGS`); the parser fills the derived defaults once every value is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyscale.clouds.base import DerivedDefault, SettingRule
from pyscale.settings.kinds import Choice
from pyscale.settings.spec import Setting

if TYPE_CHECKING:
    from pyscale.settings.model import Settings

INTERFACES = ("wsgi", "asgi")
# The embedded demo app (app/pyscale_demo), one module per interface, with the same routes.
DEMO_MODULES = {
    "wsgi": "pyscale_demo.wsgi:application",
    "asgi": "pyscale_demo.asgi:application",
}
# CPU ms per request of the demo app's I/O route, node-wide, from calibrations of the tuned
# node of each interface (`pyscale bench node calibrate` / `interfaces`, 2-core VM,
# 2026-12-04; bench/RESULTS.md, "Per-request cost" and "ASGI and gevent"), rounded up above
# the highest: wsgi 0.21-0.31 ms, asgi 0.11-0.19 ms. What workload.cpuMs defaults to.
DEMO_CPU_MS = {"wsgi": 0.3, "asgi": 0.2}

INTERFACE = (
    Setting(
        "app.interface",
        Choice(INTERFACES),
        "How Gunicorn's workers call the app: wsgi (gevent: greenlets, blocking libraries "
        "patched) or asgi (uvicorn on uvloop: async def handlers, asyncio libraries such as "
        "psycopg's async pool and redis.asyncio), each holding the plan's concurrency per "
        "worker.",
        "wsgi",
    ),
)


def _demo_module(values: Mapping[str, Any]) -> str:
    return DEMO_MODULES[values["app.interface"]]


def _demo_cpu_ms(values: Mapping[str, Any]) -> float:
    return DEMO_CPU_MS[values["app.interface"]]


DERIVED = (
    DerivedDefault(
        "app.module",
        ("app.interface",),
        "the demo app for app.interface: " + ", ".join(DEMO_MODULES.values()),
        _demo_module,
    ),
    DerivedDefault(
        "workload.cpuMs",
        ("app.interface",),
        "the demo app's, calibrated per app.interface: "
        + ", ".join(f"{ms:g} ms ({name})" for name, ms in DEMO_CPU_MS.items()),
        _demo_cpu_ms,
    ),
)


def _demo_for_interface(v: Mapping[str, Any]) -> str | None:
    """The demo's module of the other interface: Gunicorn would load it and fail to call it."""
    served = next(
        (name for name, module in DEMO_MODULES.items() if module == v["app.module"]), None
    )
    if served is not None and served != v["app.interface"]:
        return (
            f"is the demo's {served.upper()} app, and app.interface is {v['app.interface']}: "
            f"use {DEMO_MODULES[v['app.interface']]} or leave app.module unset"
        )
    return None


INTERFACE_RULES = (
    SettingRule(
        "app.module",
        ("app.interface",),
        "the demo's module of app.interface",
        _demo_for_interface,
    ),
)


def serving_demo(settings: Settings, interface: str) -> Settings:
    """`settings` with the node serving the embedded demo of `interface` (its worker class
    follows in the plan): how the benchmark and the tests run one stack on both interfaces.
    The workload stays the stack's, cpuMs included."""
    app = dataclasses.replace(settings.app, interface=interface, module=DEMO_MODULES[interface])
    return dataclasses.replace(settings, app=app)
