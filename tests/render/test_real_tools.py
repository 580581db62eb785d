"""The rendered node, checked by the tools that will read it on the node.

cloud-init validates the user-data (and so does the schema of the cloud-init Ubuntu 24.04
ships), Nginx parses its configuration (`nginx -t`, with the node's paths moved into a
temporary directory), gixy reviews it, systemd verifies and scores the units, Gunicorn loads
its configuration with the demo app and the rendered env file, and shellcheck reads every
shell script. These are real dependencies (deps/apt.txt, requirements-dev.txt): a missing
tool fails the test, it is never skipped. Each tool also gets a deliberately broken render,
to show the check can fail.

Nginx and gixy run at the node's own versions: a debian-13 node's files go to the
rehearsal's toolbox image (Debian trixie: Nginx 1.26), a debian-12 node's to this machine's
(Debian 12: Nginx 1.22). Ubuntu 24.04's Nginx 1.24 is reachable nowhere here; its files go
to Nginx 1.22, which takes the same syntax (both are before 1.25.1).
"""

import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pyscale import capacity, render, settings
from pyscale.rehearsal.toolbox import GIXY, Toolbox
from pyscale.render import PLACEHOLDER_SECRETS, RenderedNode
from tests.render.gunicorn_run import assert_plan_numbers, printed_settings

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STACK_FILES = ("dev", "staging", "prod", "prod-ovh")
# Variants no stack file covers: an app from git, plain HTTP without a domain (and without
# Brotli), and a single TLS-terminating node on each other node OS.
VARIANTS: dict[str, dict] = {
    "custom-app": {
        "domain": "app.example.com",
        "app": {"repo": "https://github.com/example/shop.git", "ref": "v1.2", "module": "shop:app"},
    },
    "no-domain": {"tls": "off", "nodeCount": 2, "targetConcurrency": 2000,
                  "edge": {"brotli": False}},
    "debian-12": {"nodeImage": "debian-12", "domain": "app.example.com", "tls": "node",
                  "nodeCount": 1, "targetConcurrency": 2000},
    "ubuntu-24.04": {"nodeImage": "ubuntu-24.04", "domain": "app.example.com", "tls": "node",
                     "nodeCount": 1, "targetConcurrency": 2000},
}  # fmt: skip
CASES = STACK_FILES + tuple(VARIANTS)
# Absolute paths in the Nginx files that `nginx -t` opens or creates.
NGINX_PATHS = ("/etc/nginx/", "/var/log/nginx/", "/run/nginx.pid", "/etc/letsencrypt/", "/var/www/")
NGINX_UNIT = Path("/usr/lib/systemd/system/nginx.service")
# Where Debian's libnginx-mod-* packages put their load_module lines and modules (on this
# machine and in the toolbox alike: deps/apt.txt, rehearsal.recipes).
MODULES_AVAILABLE = Path("/usr/share/nginx/modules-available")
NGINX_MODULES = Path("/usr/lib/nginx/modules")


def case_settings(case: str) -> settings.Settings:
    if case in VARIANTS:
        return settings.parse("staging", VARIANTS[case])
    return settings.load(case, REPO)


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture(scope="module")
def rendered() -> Callable[[str], tuple[settings.Settings, capacity.CapacityPlan, RenderedNode]]:
    cache: dict[str, tuple[settings.Settings, capacity.CapacityPlan, RenderedNode]] = {}

    def get(case: str) -> tuple[settings.Settings, capacity.CapacityPlan, RenderedNode]:
        if case not in cache:
            s = case_settings(case)
            plan = capacity.plan(s)
            secrets = render.placeholder_secrets(plan)
            cache[case] = (s, plan, render.node(plan, s, secrets))
        return cache[case]

    return get


def nginx_tree(node: RenderedNode, s: settings.Settings, root: Path, tls_enabled: bool) -> Path:
    """The node's Nginx files under `root`, every absolute path moved inside it.

    `tls_enabled` is the state after runcmd's certbot step: the TLS server linked into
    conf.d/ and a certificate at certbot's path (here a throwaway self-signed one).
    """
    for node_file in node.files:
        if not node_file.path.startswith("/etc/nginx/"):
            continue
        content = node_file.content
        for path in NGINX_PATHS:
            content = content.replace(path, f"{root}{path}")
        target = root / node_file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    shutil.copy("/etc/nginx/mime.types", root / "etc/nginx/mime.types")
    # What the node's libnginx-mod-* packages do: link their load_module line into
    # modules-enabled/; the line names the module relative to the prefix (-p, here
    # etc/nginx/), where Debian has a `modules` link.
    enabled = root / "etc/nginx/modules-enabled"
    enabled.mkdir(parents=True)
    for package in yaml.safe_load(node.user_data)["packages"]:
        if package.startswith("libnginx-mod-"):
            name = package.removeprefix("libnginx-")
            (enabled / f"50-{name}.conf").symlink_to(MODULES_AVAILABLE / f"{name}.conf")
    (root / "etc/nginx/modules").symlink_to(NGINX_MODULES)
    (root / "var/log/nginx").mkdir(parents=True)
    (root / "run").mkdir()
    if tls_enabled:
        conf_d = root / "etc/nginx/conf.d"
        (conf_d / "pyscale-tls.conf").symlink_to(root / "etc/nginx/pyscale/tls.conf")
        live = root / f"etc/letsencrypt/live/{s.domain}"
        live.mkdir(parents=True)
        made = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={s.domain}", "-keyout", live / "privkey.pem",
                    "-out", live / "fullchain.pem"])  # fmt: skip
        assert made.returncode == 0, made.stderr
    return root / "etc/nginx/nginx.conf"


def nginx_states(s: settings.Settings) -> tuple[bool, ...]:
    """A tls=node node boots without its certificate, then enables TLS: both must parse."""
    return (False, True) if s.tls == "node" else (False,)


@pytest.fixture(scope="session")
def toolbox() -> Toolbox:
    """The node's tools at Debian 13's versions (built once per machine, then cached)."""
    return Toolbox()


def on_node_os(
    toolbox: Toolbox, s: settings.Settings, argv: list[str | Path], root: Path
) -> subprocess.CompletedProcess[str]:
    """`argv` with the node OS's own tool: in the toolbox for its release, else here."""
    if s.node_os.debian_release == toolbox.release:
        return toolbox.run(*argv, mounts=[root])
    return run(argv)


def nginx_t(
    toolbox: Toolbox, s: settings.Settings, config: Path
) -> subprocess.CompletedProcess[str]:
    root = config.parents[2]  # <root>/etc/nginx/nginx.conf
    return on_node_os(toolbox, s, ["nginx", "-t", "-c", config, "-p", f"{config.parent}/"], root)


# --- cloud-init -----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_cloud_init_schema_accepts_the_user_data(case: str, rendered, tmp_path: Path) -> None:
    user_data = tmp_path / "user-data"
    user_data.write_text(rendered(case)[2].user_data)
    result = run(["cloud-init", "schema", "--config-file", user_data])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


# The cloud-config schema of the cloud-init that Ubuntu 24.04 ships (newer than Debian's
# cloud-init package that runs `cloud-init schema` above): canonical/cloud-init, tag
# ubuntu/26.1-0ubuntu1_24.04.1 (c68caf6e), cloudinit/config/schemas/schema-cloud-config-v1.json;
# cloud-init is dual-licensed GPLv3 / Apache 2.0.
NOBLE_SCHEMA = Path(__file__).with_name("schema-cloud-config-v1.ubuntu-24.04.json")


def deprecated_keys(schema: object) -> set[str]:
    """Every property name the schema marks deprecated, wherever it appears."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and sub.get("deprecated"):
                found.add(name)
        for value in schema.values():
            found |= deprecated_keys(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= deprecated_keys(value)
    return found


def document_keys(document: object) -> set[str]:
    if isinstance(document, dict):
        return set(document) | {k for v in document.values() for k in document_keys(v)}
    if isinstance(document, list):
        return {k for v in document for k in document_keys(v)}
    return set()


@pytest.mark.parametrize("case", CASES)
def test_user_data_matches_ubuntu_24_04_cloud_init_schema(
    case: str, rendered, tmp_path: Path
) -> None:
    user_data = tmp_path / "user-data.yaml"
    user_data.write_text(rendered(case)[2].user_data)
    result = run([VENV_BIN / "check-jsonschema", "--schemafile", NOBLE_SCHEMA, user_data])
    assert result.returncode == 0, result.stdout + result.stderr
    used = document_keys(yaml.safe_load(user_data.read_text()))
    assert not used & deprecated_keys(json.loads(NOBLE_SCHEMA.read_text()))


def test_ubuntu_24_04_schema_rejects_a_broken_document(rendered, tmp_path: Path) -> None:
    document = yaml.safe_load(rendered("prod")[2].user_data)
    document["write_files"][0]["defer"] = "after packages"
    broken = tmp_path / "user-data.yaml"
    broken.write_text("#cloud-config\n" + yaml.safe_dump(document))
    result = run([VENV_BIN / "check-jsonschema", "--schemafile", NOBLE_SCHEMA, broken])
    assert result.returncode != 0
    assert "write_files[0].defer" in result.stdout


def test_cloud_init_schema_rejects_a_broken_document(rendered, tmp_path: Path) -> None:
    document = yaml.safe_load(rendered("prod")[2].user_data)
    document["write_files"][0]["permissions"] = 644  # an int: YAML would read 0644 as octal
    broken = tmp_path / "user-data"
    broken.write_text("#cloud-config\n" + yaml.safe_dump(document))
    result = run(["cloud-init", "schema", "--config-file", broken])
    assert result.returncode != 0
    assert "write_files.0.permissions" in result.stdout + result.stderr


# --- nginx ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_nginx_accepts_the_configuration(case: str, rendered, toolbox, tmp_path: Path) -> None:
    s, _, node = rendered(case)
    for tls_enabled in nginx_states(s):
        config = nginx_tree(node, s, tmp_path / f"tls-{tls_enabled}", tls_enabled)
        result = nginx_t(toolbox, s, config)
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr
        assert "[warn]" not in result.stderr, result.stderr


def test_nginx_rejects_a_plan_with_an_empty_upstream_pool(rendered, toolbox, tmp_path) -> None:
    """A plan whose per-worker upstream keepalive rounds down to 0 must not reach a node."""
    s, plan, _ = rendered("prod")
    broken = dataclasses.replace(plan, nginx=dataclasses.replace(plan.nginx, upstream_keepalive=0))
    node = render.node(broken, s, PLACEHOLDER_SECRETS)
    result = nginx_t(toolbox, s, nginx_tree(node, s, tmp_path, tls_enabled=False))
    assert result.returncode != 0
    assert '"keepalive"' in result.stderr


def test_nginx_refuses_brotli_without_the_modules_the_node_installs(
    rendered, toolbox, tmp_path: Path
) -> None:
    """edge.brotli's directives exist only once the packages' modules are loaded (through
    modules-enabled/): without them Nginx refuses the configuration."""
    s, _, node = rendered("prod")
    assert s.edge.brotli
    config = nginx_tree(node, s, tmp_path, tls_enabled=False)
    for link in (config.parent / "modules-enabled").iterdir():
        link.unlink()
    result = nginx_t(toolbox, s, config)
    assert result.returncode != 0
    assert 'unknown directive "brotli"' in result.stderr


def test_the_node_nginx_refuses_what_this_machine_accepts(rendered, toolbox, tmp_path) -> None:
    """Why files are checked at the node's versions: Debian 13's Nginx warns on the HTTP/2
    listen parameter that Debian 12's takes silently."""
    s, _, node = rendered("dev")
    old_style = dataclasses.replace(
        node,
        files=tuple(
            dataclasses.replace(f, content=f.content.replace("ssl;\n    http2 on;", "ssl http2;"))
            for f in node.files
        ),
    )
    result = nginx_t(toolbox, s, nginx_tree(old_style, s, tmp_path, tls_enabled=True))
    assert result.returncode == 0, result.stderr
    assert 'the "listen ... http2" directive is deprecated' in result.stderr


@pytest.mark.parametrize("case", CASES)
def test_gixy_finds_no_issue(case: str, rendered, toolbox, tmp_path: Path) -> None:
    s, _, node = rendered(case)
    for tls_enabled in nginx_states(s):
        config = nginx_tree(node, s, tmp_path / f"tls-{tls_enabled}", tls_enabled)
        gixy = GIXY if s.node_os.debian_release == toolbox.release else VENV_BIN / "gixy"
        result = on_node_os(toolbox, s, [gixy, config], config.parents[2])
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No issues found" in result.stdout, result.stdout


# --- systemd --------------------------------------------------------------------------


def systemd_verify(unit: Path) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify exits 0 on a bad value and only warns: treat warnings as errors."""
    result = run(["systemd-analyze", "verify", "--man=no", unit])
    returncode = result.returncode or int(bool(result.stderr))
    return subprocess.CompletedProcess(result.args, returncode, result.stdout, result.stderr)


def pyscale_unit(node: RenderedNode, root: Path) -> Path:
    """The app's unit, its ExecStart pointing at a stand-in (verify requires an executable)."""
    gunicorn = root / "opt/pyscale/venv/bin/gunicorn"
    gunicorn.parent.mkdir(parents=True)
    gunicorn.write_text("#!/bin/sh\n")
    gunicorn.chmod(0o755)
    unit = root / "pyscale.service"
    content = node.file("/etc/systemd/system/pyscale.service").content
    unit.write_text(content.replace("/opt/pyscale/venv/bin/gunicorn", str(gunicorn)))
    return unit


@pytest.mark.parametrize("case", CASES)
def test_systemd_verifies_the_app_unit(case: str, rendered, tmp_path: Path) -> None:
    result = systemd_verify(pyscale_unit(rendered(case)[2], tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", CASES)
def test_systemd_verifies_the_drain_unit(case: str, rendered, tmp_path: Path) -> None:
    """pyscale-drain.service as rendered: its stop sleeps the plan's detection time, within
    its own stop timeout, and it is ordered after Nginx and Gunicorn (stopped before them)."""
    _, plan, node = rendered(case)
    unit = tmp_path / "pyscale-drain.service"
    unit.write_text(node.file("/etc/systemd/system/pyscale-drain.service").content)
    result = systemd_verify(unit)
    assert result.returncode == 0, result.stderr
    text = unit.read_text()
    assert "After=nginx.service pyscale.service" in text
    assert f"ExecStop=/bin/sleep {plan.rollout.detect_s}\n" in text
    assert f"ExecStop=/usr/bin/touch {render.NODE.draining_flag}\n" in text


@pytest.mark.parametrize("case", CASES)
def test_systemd_verifies_nginx_with_the_limits_drop_in(
    case: str, rendered, tmp_path: Path
) -> None:
    """The packaged nginx.service with our drop-in beside it (verify reads both)."""
    node = rendered(case)[2]
    shutil.copy(NGINX_UNIT, tmp_path / "nginx.service")
    dropin = tmp_path / "nginx.service.d/pyscale.conf"
    dropin.parent.mkdir()
    dropin.write_text(node.file("/etc/systemd/system/nginx.service.d/pyscale.conf").content)
    result = systemd_verify(tmp_path / "nginx.service")
    assert result.returncode == 0, result.stderr


# `systemd-analyze security` exposure, x10 (its --threshold scale): 2.0 "OK" when written;
# a change that drops hardening fails here rather than pass review unnoticed.
MAX_EXPOSURE = 20


def security(unit: Path) -> subprocess.CompletedProcess[str]:
    return run(["systemd-analyze", "security", "--offline=true", f"--threshold={MAX_EXPOSURE}",
                "--no-pager", unit])  # fmt: skip


def test_systemd_security_exposure_of_the_app_unit(rendered, tmp_path: Path) -> None:
    unit = pyscale_unit(rendered("prod")[2], tmp_path)
    hardened = security(unit)
    assert hardened.returncode == 0, hardened.stdout[-2000:]
    # The same unit without its sandboxing lines scores worse than the threshold.
    lines = unit.read_text().splitlines()
    bare = lines[: lines.index("NoNewPrivileges=yes")] + lines[lines.index("[Install]") :]
    unit.write_text("\n".join(bare) + "\n")
    assert security(unit).returncode != 0


def test_systemd_rejects_a_plan_with_a_negative_descriptor_limit(rendered, tmp_path: Path) -> None:
    s, plan, _ = rendered("prod")
    broken = dataclasses.replace(plan, gunicorn=dataclasses.replace(plan.gunicorn, limit_nofile=-1))
    node = render.node(broken, s, PLACEHOLDER_SECRETS)
    result = systemd_verify(pyscale_unit(node, tmp_path))
    assert result.returncode != 0
    assert "LimitNOFILE" in node.file("/etc/systemd/system/pyscale.service").content
    assert "Failed to parse resource value" in result.stderr


# --- gunicorn -------------------------------------------------------------------------


def environment_file(content: str) -> dict[str, str]:
    """The variables systemd's EnvironmentFile= reads from the rendered env file."""
    variables = {}
    for line in content.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            variables[name] = shlex.split(value)[0] if value else ""
    return variables


def gunicorn(
    config: Path, *args: str, app_env: dict[str, str], app_path: Path
) -> subprocess.CompletedProcess[str]:
    env = os.environ | app_env | {"PYTHONPATH": str(app_path)}
    return run([VENV_BIN / "gunicorn", *args, "--config", config], env=env)


def stand_in_app(module: str, root: Path) -> Path:
    """A WSGI callable at `module` (pkg.mod:name) for an app that lives in another repo."""
    path, name = module.split(":")
    source = root / (path.replace(".", "/") + ".py")
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(f"def {name}(environ, start_response):\n    return []\n")
    return root


@pytest.mark.parametrize("case", CASES)
def test_gunicorn_loads_the_configuration_and_the_demo_app(
    case: str, rendered, tmp_path: Path
) -> None:
    s, plan, node = rendered(case)
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(node.file("/etc/pyscale/gunicorn.conf.py").content)
    # --check-config imports the app, which reads the env file's URLs and pool sizes. An
    # app from git is not here: a stand-in callable takes its module path.
    app_env = environment_file(node.file("/etc/pyscale/env").content)
    if s.app.is_demo:
        app_path = REPO / "app"
    else:
        app_path = stand_in_app(s.app.module, tmp_path / "app")
    checked = gunicorn(config, "--check-config", app_env=app_env, app_path=app_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = gunicorn(config, "--print-config", app_env=app_env, app_path=app_path)
    assert printed.returncode == 0, printed.stderr
    seen = printed_settings(printed.stdout)
    assert_plan_numbers(seen, plan.gunicorn)
    assert seen["bind"] == "['unix:/run/pyscale/gunicorn.sock']"
    # Both sockets in the unit's RuntimeDirectory, the only place the service may write.
    assert seen["control_socket"] == "/run/pyscale/gunicorn.ctl"


def test_gunicorn_rejects_a_plan_with_a_non_numeric_backlog(rendered, tmp_path: Path) -> None:
    s, plan, _ = rendered("prod")
    broken = dataclasses.replace(plan, gunicorn=dataclasses.replace(plan.gunicorn, backlog="max"))
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        render.node(broken, s, PLACEHOLDER_SECRETS).file("/etc/pyscale/gunicorn.conf.py").content
    )
    result = gunicorn(config, "--check-config", app_env={}, app_path=REPO / "app")
    assert result.returncode != 0


# --- shell ----------------------------------------------------------------------------


def shell_scripts(node: RenderedNode) -> dict[str, str]:
    """Every script the node writes, and runcmd as the one /bin/sh script cloud-init runs."""
    scripts = {f.path: f.content for f in node.files if f.content.startswith("#!")}
    runcmd = yaml.safe_load(node.user_data)["runcmd"]
    scripts["runcmd"] = "#!/bin/sh\n" + "\n".join(runcmd) + "\n"
    return scripts


@pytest.mark.parametrize("case", CASES)
def test_shellcheck_passes_every_script(case: str, rendered, tmp_path: Path) -> None:
    scripts = shell_scripts(rendered(case)[2])
    assert "/usr/local/sbin/pyscale-exporters" in scripts
    for name, content in scripts.items():
        script = tmp_path / Path(name).name
        script.write_text(content)
        result = run(["shellcheck", "--severity=style", script])
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


def test_shellcheck_catches_a_broken_script(tmp_path: Path) -> None:
    script = tmp_path / "broken"
    script.write_text("#!/bin/sh\ncidr=$1\nip -4 -o addr show to $cidr\n")
    result = run(["shellcheck", script])
    assert result.returncode != 0
    assert "SC2086" in result.stdout
