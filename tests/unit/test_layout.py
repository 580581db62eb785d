"""The layout's promises, held by tests: the pure core imports no Pulumi, names no cloud,
and no module grows past the size where it should have been split."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pyscale"
# The engine that runs the program under mocks, and the CLI that drives it, are the only
# parts of pyscale that load Pulumi.
PULUMI_ALLOWED = ("pyscale.offline", "pyscale.cli", "pyscale.__main__")
MAX_LINES = 400


def modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
    )


@pytest.mark.parametrize("module", [m for m in modules() if not m.startswith(PULUMI_ALLOWED)])
def test_the_pure_core_loads_no_pulumi(module: str) -> None:
    """Imported in a fresh interpreter, the module brings in neither pulumi nor a provider."""
    probe = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=REPO, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"{module} loads {done.stdout.strip()}"


def test_the_probe_sees_pulumi_where_it_is_loaded() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, pyscale.offline; "
                           "print('pulumi' in sys.modules)"],
                          capture_output=True, text=True, cwd=REPO, check=False)  # fmt: skip
    assert done.stdout.strip() == "True"


def _cloud_name_comparisons(source: str, names: set[str]) -> list[int]:
    """Lines of `source` that compare something with one of `names`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Compare)
        for operand in (node.left, *node.comparators)
        if isinstance(operand, ast.Constant) and operand.value in names
    ]


def test_the_core_never_branches_on_a_cloud_name() -> None:
    """Cloud knowledge lives in pyscale/clouds/<cloud>/ and components/<cloud>/ only."""
    from pyscale import clouds

    names = set(clouds.NAMES)
    core = [p for p in PACKAGE.rglob("*.py") if "clouds" not in p.relative_to(PACKAGE).parts]
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in core
        for line in _cloud_name_comparisons(path.read_text(), names)
    ]
    assert found == [], found


def test_the_branch_check_sees_a_branch() -> None:
    source = 'def f(s):\n    return 1 if s.cloud == "ovh" else 2\n'
    assert _cloud_name_comparisons(source, {"ovh"}) == [2]


@pytest.mark.parametrize("folder", ["pyscale", "components", "policy", "bench"])
def test_no_module_is_over_the_size_where_it_should_be_split(folder: str) -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in (REPO / folder).rglob("*.py")}
    assert sizes
    over = {str(p.relative_to(REPO)): n for p, n in sizes.items() if n > MAX_LINES}
    assert over == {}, over
