"""Stack files read as Pulumi reads them, so that an offline plan and `pulumi up` agree.

Pulumi reads Pulumi.<stack>.yaml with Go's yaml.v3: YAML 1.2's core schema. PyYAML speaks
YAML 1.1, where `yes`, `no`, `on` and `off` are booleans, `03:00` is the number 180
(sexagesimal) and `010` is 8 (octal); under Pulumi each of those is the string or the
decimal it looks like. This loader resolves plain scalars by the 1.2 core schema instead. It
also refuses what would make one file mean two things: a key given twice (PyYAML keeps the
last, silently) and aliases (a file can expand `*a` into millions of values; no stack needs
them).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

from pyscale.settings.errors import Problem

_CORE = {  # YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
    "tag:yaml.org,2002:null": r"~|null|Null|NULL|",
    "tag:yaml.org,2002:bool": r"true|True|TRUE|false|False|FALSE",
    "tag:yaml.org,2002:int": r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
    "tag:yaml.org,2002:float": (
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
        r"|[-+]?(\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN"
    ),
}


class StackYamlError(ValueError):
    """A stack file that cannot mean one thing: where, and why."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line, self.why = line, why

    def problem(self, file: str) -> Problem:
        return Problem(f"{file}:{self.line}", ..., self.why)


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: ClassVar[dict] = {}  # none of YAML 1.1's: the core schema below

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise StackYamlError(
                event.start_mark.line + 1, f"alias *{event.anchor}: stack files take no aliases"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise StackYamlError(
                    key_node.start_mark.line + 1,
                    f"key {key!r} is given twice (also on line {seen[key]}); Pulumi would "
                    "refuse the file",
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node)
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        return self.construct_scalar(node).lower() == "true"


for _tag, _pattern in _CORE.items():
    _Loader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_pattern})$"), None)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader.construct_yaml_bool)


def load(text: str) -> Any:
    """The document in `text`, YAML 1.2 core; StackYamlError for duplicate keys, aliases and
    syntax errors (with the line)."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise StackYamlError(line, f"is not valid YAML: {error.problem}") from None
