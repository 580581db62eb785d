"""Typed, validated stack settings, read from the stack's `pyscale:` config.

Every setting is declared once (declarations.py); the parser (parse.py), the unknown-key
check, the README's configuration table and schema/stack.schema.json (reference.py,
schema.py) are generated from the declarations. What a cloud applies, requires or limits
comes from its entry in pyscale/clouds. The rest of pyscale imports what it needs from here.
"""

from pyscale.settings.declarations import ENVIRONMENTS, TLS_MODES
from pyscale.settings.errors import NAMESPACE, Problem, SettingsError
from pyscale.settings.model import (
    AlertSettings,
    AppSettings,
    CacheSettings,
    DatabaseSettings,
    Settings,
)
from pyscale.settings.parse import parse
from pyscale.settings.stackfiles import (
    from_pulumi_config,
    load,
    read_stack_file,
    stack_config,
    stack_names,
)

__all__ = [
    "ENVIRONMENTS",
    "NAMESPACE",
    "TLS_MODES",
    "AlertSettings",
    "AppSettings",
    "CacheSettings",
    "DatabaseSettings",
    "Problem",
    "Settings",
    "SettingsError",
    "from_pulumi_config",
    "load",
    "parse",
    "read_stack_file",
    "stack_config",
    "stack_names",
]
