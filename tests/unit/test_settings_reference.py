"""The generated reference: README's configuration table and schema/stack.schema.json are what
the declarations give, a hand edit is caught, and `pyscale settings` says which file is stale."""

import json
import re
import shutil
from pathlib import Path

import pytest

from pyscale import cli, clouds
from pyscale.settings import declarations, reference
from pyscale.settings.schema import stack_schema

REPO = reference.REPO
# A hand edit of one cell of the table.
HAND_EDIT = ("The cloud the stack is built on.", "The cloud.")


def between_markers(text: str) -> str:
    start = text.index(reference.BEGIN) + len(reference.BEGIN)
    return text[start : text.index(reference.END)].strip("\n")


def rows(table: str) -> dict[str, list[str]]:
    """Table rows by key: the cells of each `| `key` | ... |` line."""
    found = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            found[cells[0].strip("`")] = cells
    return found


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A root holding the README (regenerated) and the schema, as `--write` leaves them."""
    shutil.copy(REPO / reference.README, tmp_path / reference.README)
    reference.write(tmp_path)
    return tmp_path


def test_readme_table_is_the_generated_one() -> None:
    assert between_markers((REPO / reference.README).read_text()) == reference.table()


def test_schema_file_is_the_generated_one() -> None:
    assert json.loads((REPO / reference.SCHEMA).read_text()) == stack_schema()
    assert reference.stale(REPO) == []


def test_one_row_per_setting_in_declaration_order() -> None:
    table = rows(reference.table())
    assert list(table) == [s.key for s in declarations.SETTINGS]
    assert all(len(cells) == len(reference.COLUMNS) for cells in table.values())


def test_region_row_names_exactly_the_catalog_regions() -> None:
    """The hand-written table named regions no catalog had (RBX-A, SYD1 on OVHcloud)."""
    named = set(re.findall(r"`([^`]+)`", rows(reference.table())["region"][1]))
    assert named == {r for n in clouds.NAMES for r in clouds.get(n).catalog.regions}


def test_a_hand_edit_of_the_table_is_stale(copy: Path) -> None:
    readme = copy / reference.README
    readme.write_text(readme.read_text().replace(*HAND_EDIT, 1))
    assert reference.stale(copy) == [readme]


def test_an_edit_outside_the_markers_is_not(copy: Path) -> None:
    readme = copy / reference.README
    readme.write_text(readme.read_text() + "\nA note of our own.\n")
    assert reference.stale(copy) == []


def test_a_hand_edit_of_the_schema_is_stale(copy: Path) -> None:
    schema = copy / reference.SCHEMA
    schema.write_text(schema.read_text().replace('"fra1"', '"fra2"', 1))
    assert reference.stale(copy) == [schema]


def test_cli_says_which_file_is_stale_then_writes_both(
    copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme, schema = copy / reference.README, copy / reference.SCHEMA
    prose = "\nA note of our own.\n"
    readme.write_text(readme.read_text().replace(*HAND_EDIT, 1) + prose)
    schema.unlink()
    monkeypatch.setattr(reference, "REPO", copy)

    assert cli.main(["settings"]) == 1
    out = capsys.readouterr().out
    assert f"stale: {readme}" in out and f"stale: {schema}" in out

    assert cli.main(["settings", "--write"]) == 0
    assert cli.main(["settings"]) == 0
    assert between_markers(readme.read_text()) == reference.table()
    assert readme.read_text().endswith(prose)
    assert json.loads(schema.read_text()) == stack_schema()


def test_cli_refuses_a_readme_without_markers(
    copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (copy / reference.README).write_text("# pyscale\n")
    monkeypatch.setattr(reference, "REPO", copy)
    assert cli.main(["settings", "--write"]) == 2
    assert reference.BEGIN in capsys.readouterr().err
    assert (copy / reference.README).read_text() == "# pyscale\n"
