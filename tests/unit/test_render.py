"""pyscale/render: the node's files carry the plan's numbers, deterministically."""

import base64
import dataclasses
import gzip
import random
import re
import types
from pathlib import Path

import jinja2
import pytest
import yaml

from pyscale import capacity, clouds, render, settings
from pyscale.render import NODE, PLACEHOLDER_SECRETS, NodeSecrets, RenderedNode, cloudinit

REPO = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod", "prod-ovh")


def settings_for(stack: str = "prod", **raw) -> settings.Settings:
    return settings.parse(stack, {"domain": "app.example.com", **raw})


def render_node(
    s: settings.Settings,
    plan: capacity.CapacityPlan | None = None,
    secrets: NodeSecrets | None = None,
) -> RenderedNode:
    plan = plan or capacity.plan(s)
    return render.node(plan, s, secrets or render.placeholder_secrets(plan))


def number(text: str, pattern: str) -> int:
    """The one integer `pattern` captures in `text` (fails when absent or ambiguous)."""
    found = re.findall(pattern, text, flags=re.MULTILINE)
    assert len(found) == 1, f"{pattern!r} matched {found}"
    return int(found[0])


def decoded(entry: dict) -> str:
    """A write_files entry's content as cloud-init writes it."""
    if entry.get("encoding") == "gz+b64":
        return gzip.decompress(base64.b64decode(entry["content"])).decode()
    return entry["content"]


def node_cloud(stack: str) -> str:
    return settings.load(stack, REPO).cloud


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_writes_exactly_the_rendered_files(stack: str) -> None:
    node = render_node(settings.load(stack, REPO))
    assert node.user_data.startswith("#cloud-config\n")
    document = yaml.safe_load(node.user_data)
    written = [
        (f["path"], decoded(f), f["permissions"], f["owner"]) for f in document["write_files"]
    ]
    assert written == [(f.path, f.content, f.permissions, f.owner) for f in node.files]
    # Python source is compressed (the demo app, the worker class); on DigitalOcean every
    # config file reads in the user-data as it lands, on OVHcloud (48 KiB) the largest are
    # compressed too, as few as fit (test_a_document_over_the_limit_...).
    packed = [f["path"] for f in document["write_files"] if "encoding" in f]
    assert "/etc/pyscale/pyscale_worker.py" in packed
    configs = [p for p in packed if not p.endswith((".py", ".toml"))]
    if node_cloud(stack) == "digitalocean" or not configs:
        assert configs == []
    else:
        plain = [f for f in node.files if not f.compressed]
        assert all(
            len(f.content) <= min(len(g.content) for g in node.files if g.path in configs)
            for f in plain
        ), "the largest plain files go first"
    # Deferred: written after packages and the pyscale user exist (owners must resolve).
    assert all(f["defer"] is True for f in document["write_files"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_tuning_number_on_the_node_is_the_plans(stack: str) -> None:
    s = settings.load(stack, REPO)
    plan = capacity.plan(s)
    node = render_node(s, plan)
    g, n, k = plan.gunicorn, plan.nginx, plan.kernel

    nginx = node.file("/etc/nginx/nginx.conf").content
    assert number(nginx, r"^worker_processes (\d+);") == n.worker_processes
    assert number(nginx, r"^worker_rlimit_nofile (\d+);") == n.worker_rlimit_nofile
    assert number(nginx, r"^\s+worker_connections (\d+);") == n.worker_connections

    site = node.file("/etc/nginx/conf.d/pyscale.conf").content
    assert number(site, r"^\s+keepalive (\d+);") == n.upstream_keepalive
    assert number(site, r"^\s+keepalive_timeout (\d+)s;") == n.upstream_keepalive_timeout_s
    assert number(site, r"default_server backlog=(\d+) reuseport;") == n.listen_backlog

    proxy = node.file("/etc/nginx/pyscale/proxy.conf").content
    assert number(proxy, r"^proxy_read_timeout (\d+)s;") == g.timeout_s

    conf = node.file("/etc/pyscale/gunicorn.conf.py").content
    for name, value in (
        ("workers", g.workers),
        ("worker_connections", g.worker_connections),
        ("backlog", g.backlog),
        ("max_requests", g.max_requests),
        ("max_requests_stagger", g.max_requests_stagger),
        ("timeout", g.timeout_s),
        ("graceful_timeout", g.graceful_timeout_s),
        ("keepalive", g.keepalive_s),
    ):
        assert number(conf, rf"^{name} = (\d+)$") == value, name
    assert f'worker_class = "{g.worker_class}"' in conf

    unit = node.file("/etc/systemd/system/pyscale.service").content
    assert number(unit, r"^LimitNOFILE=(\d+)$") == g.limit_nofile
    assert number(unit, r"^TimeoutStopSec=(\d+)$") > g.graceful_timeout_s
    dropin = node.file("/etc/systemd/system/nginx.service.d/pyscale.conf").content
    assert number(dropin, r"^LimitNOFILE=(\d+)$") == n.limit_nofile

    sysctl = node.file("/etc/sysctl.d/60-pyscale.conf").content
    lines = [line for line in sysctl.splitlines() if line and not line.startswith("#")]
    assert dict(line.split(" = ", 1) for line in lines) == k.sysctls()

    limits = node.file("/etc/security/limits.d/60-pyscale.conf").content
    assert set(re.findall(r"nofile (\d+)$", limits, flags=re.MULTILINE)) == {str(k.nofile)}

    env = node.file("/etc/pyscale/env").content
    assert number(env, r"^DB_POOL_SIZE=(\d+)$") == plan.database.per_process_pool
    assert number(env, r"^DB_READ_POOL_SIZE=(\d+)$") == plan.database.per_process_read_pool
    assert number(env, r"^CACHE_POOL_SIZE=(\d+)$") == plan.cache.per_process_pool


# Digits a config template may hold literally, each for a reason that is not tuning.
_ALLOWED_LITERALS = (
    r"return (301|404|421|444|503)\b",  # HTTP status codes
    r"error_page [\d =]+ \S+;|/50x\.html",  # the error pages: status codes, the page's name
    r"127\.0\.0\.1|::1",  # loopback
    r"umask = 0o007|control_socket_mode = 0o600|RuntimeDirectoryMode=0750|UMask=0027",  # modes
    r"fail_timeout=0",  # never mark the only upstream down (Gunicorn's deploy docs)
    r"default 0;|^\s+1;$|\"1:https\"",  # geo/map flags
    r'"~\^\[23\]" 1;|"1" "";|default 1;|% 1;',  # the sampled access log: 2xx/3xx, flags
    r"TLSv1\.[23]|^ssl_ciphers .*$|proxy_http_version 1\.1|http2|utf-8|AF_INET6",  # names
)


def test_config_templates_hold_no_literal_tuning_numbers() -> None:
    """Numbers reach the templates as plan (or NodeDefaults) values, never typed in."""
    templates = sorted((REPO / "cloud-init" / "files").rglob("*.j2"))
    assert templates
    for template in templates:
        if template.read_text().startswith("#!"):
            continue  # scripts: loop counters and exit codes
        text = "\n".join(
            line for line in template.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", text)
        for pattern in _ALLOWED_LITERALS:
            text = re.sub(pattern, "", text, flags=re.MULTILINE)
        assert not re.findall(r".*\d.*", text), f"{template}: literal numbers"


def test_env_file_is_private_and_holds_the_secrets() -> None:
    secrets = NodeSecrets(
        database_url="postgresql://u:p@primary:25060/db",
        database_read_urls=("postgresql://u:p@r1:25060/db", "postgresql://u:p@r2:25060/db"),
        redis_url="rediss://default:p@cache:25061",
    )
    env = render_node(settings_for(), secrets=secrets).file("/etc/pyscale/env")
    assert (env.permissions, env.owner) == ("0600", "pyscale:pyscale")
    assert 'DATABASE_URL="postgresql://u:p@primary:25060/db"\n' in env.content
    assert (
        'DATABASE_READ_URLS="postgresql://u:p@r1:25060/db,postgresql://u:p@r2:25060/db"\n'
        in env.content
    )
    assert 'REDIS_URL="rediss://default:p@cache:25061"\n' in env.content


def test_env_values_are_quoted_and_single_line() -> None:
    quoted = NodeSecrets('postgresql://u:p"w\\x@h/db', (), "redis://h")
    env = render_node(settings_for(), secrets=quoted).file("/etc/pyscale/env").content
    assert 'DATABASE_URL="postgresql://u:p\\"w\\\\x@h/db"' in env
    assert 'DATABASE_READ_URLS=""' in env
    with pytest.raises(ValueError, match="REDIS_URL must be a single line"):
        render_node(settings_for(), secrets=NodeSecrets("postgresql://h/db", (), "redis://h\nX=1"))


@pytest.mark.parametrize("stack", STACKS)
def test_placeholders_have_one_read_url_per_replica(stack: str) -> None:
    s = settings.load(stack, REPO)
    plan = capacity.plan(s)
    env = render_node(s, plan).file("/etc/pyscale/env").content
    urls = re.search(r'^DATABASE_READ_URLS="(.*)"$', env, flags=re.MULTILINE).group(1)
    assert len([u for u in urls.split(",") if u]) == plan.database.read_replicas
    # The plain placeholders suit every plan: no replica URL at all.
    assert render.node(plan, s, PLACEHOLDER_SECRETS).file("/etc/pyscale/env")


def test_read_urls_for_a_plan_without_replicas_fail_the_render() -> None:
    s = settings.load("dev", REPO)
    plan = capacity.plan(s)
    assert plan.database.read_replicas == 0
    with pytest.raises(ValueError, match=r"1 read replica URL\(s\) given for stack 'dev'"):
        render_node(s, plan, NodeSecrets("postgresql://h/db", ("postgresql://r/db",), "redis://h"))


def test_render_is_deterministic() -> None:
    s = settings.load("prod", REPO)
    first, second = render_node(s), render_node(s)
    assert first == second
    assert not re.search(r"\b20\d\d-\d\d-\d\d", first.user_data), "a date in user-data"


def test_a_number_missing_from_the_plan_fails_the_render() -> None:
    s = settings_for()
    plan = capacity.plan(s)
    fields = {f.name: getattr(plan.nginx, f.name) for f in dataclasses.fields(plan.nginx)}
    del fields["listen_backlog"]
    incomplete = dataclasses.make_dataclass("NginxPlan", list(fields), frozen=True)(**fields)
    with pytest.raises(jinja2.UndefinedError, match="listen_backlog"):
        render_node(s, dataclasses.replace(plan, nginx=incomplete))


def test_tls_node_terminates_tls_with_certbot_and_redirects() -> None:
    s = settings.load("dev", REPO)
    node = render_node(s)
    document = yaml.safe_load(node.user_data)
    assert "certbot" in document["packages"]
    tls = node.file("/etc/nginx/pyscale/tls.conf").content
    assert f"ssl_certificate /etc/letsencrypt/live/{s.domain}/fullchain.pem;" in tls
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls
    # Debian 13's Nginx 1.26: HTTP/2 is a directive (the listen parameter is deprecated).
    assert re.search(r"listen 443 ssl default_server backlog=\d+ reuseport;\n\s+http2 on;", tls)
    assert "ssl http2" not in tls
    site = node.file("/etc/nginx/conf.d/pyscale.conf").content
    assert f"return 301 https://{s.domain}$request_uri;" in site
    assert "location ^~ /.well-known/acme-challenge/" in site
    runcmd = "\n".join(document["runcmd"])
    assert "certbot certonly --webroot" in runcmd
    assert "ln -sf /etc/nginx/pyscale/tls.conf /etc/nginx/conf.d/pyscale-tls.conf" in runcmd
    # The TLS server is enabled only after the retry loop has a certificate.
    assert runcmd.index("for attempt in") < runcmd.index("ln -sf /etc/nginx/pyscale/tls.conf")


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-ovh"])
def test_behind_a_load_balancer_the_node_speaks_plain_http(stack: str) -> None:
    node = render_node(settings.load(stack, REPO))
    assert "certbot" not in yaml.safe_load(node.user_data)["packages"]
    assert "/etc/nginx/pyscale/tls.conf" not in [f.path for f in node.files]
    site = node.file("/etc/nginx/conf.d/pyscale.conf").content
    assert "include /etc/nginx/pyscale/locations.conf;" in site
    assert "443" not in site


def test_unknown_hosts_are_dropped_but_the_health_check_is_answered() -> None:
    site = render_node(settings_for()).file("/etc/nginx/conf.d/pyscale.conf").content
    default = site[site.index("default_server") : site.index("server_name app.example.com")]
    assert "return 444;" in default
    assert "include /etc/nginx/pyscale/health.conf;" in default


def test_the_health_check_fails_until_the_bootstrap_is_done() -> None:
    node = render_node(settings_for())
    health = node.file("/etc/nginx/pyscale/health.conf").content
    assert f"if (!-f {NODE.bootstrap_done}) {{\n        return 503" in health
    assert "proxy_pass http://pyscale_app;" in health
    # Every server the balancer's check reaches includes it.
    assert (
        "include /etc/nginx/pyscale/health.conf;"
        in node.file("/etc/nginx/pyscale/locations.conf").content
    )
    runcmd = yaml.safe_load(node.user_data)["runcmd"]
    assert runcmd[-1].splitlines()[-1] == f"touch {NODE.bootstrap_done}"
    assert NODE.bootstrap_done not in "\n".join(runcmd[:-1]).replace(
        f"rm -f {NODE.bootstrap_done}", ""
    )


def test_an_older_nginx_gets_http2_as_a_listen_parameter() -> None:
    """Nginx before 1.25.1 has no `http2` directive (Ubuntu 24.04 ships 1.24)."""
    tls = (
        render_node(
            settings_for(
                "dev", nodeImage="ubuntu-24.04", tls="node", nodeCount=1, targetConcurrency=2000
            )
        )
        .file("/etc/nginx/pyscale/tls.conf")
        .content
    )
    assert "http2 on;" not in tls
    assert re.search(r"listen 443 ssl http2 default_server backlog=\d+ reuseport;", tls)


def test_without_a_domain_the_app_server_is_the_default() -> None:
    site = render_node(settings_for("staging", domain=None, tls="off")).file(
        "/etc/nginx/conf.d/pyscale.conf"
    )
    assert "444" not in site.content
    assert "include /etc/nginx/pyscale/locations.conf;" in site.content


def test_real_client_ip_is_taken_only_from_the_vpc() -> None:
    s = settings_for(vpcCidr="10.20.0.0/16")
    node = render_node(s)
    site = node.file("/etc/nginx/conf.d/pyscale.conf").content
    assert "set_real_ip_from 10.20.0.0/16;" in site
    assert "real_ip_header X-Forwarded-For;" in site
    assert "cidr=10.20.0.0/16" in node.file("/usr/local/sbin/pyscale-exporters").content


def test_custom_app_is_cloned_at_its_ref_and_served_by_its_module() -> None:
    s = settings_for(
        app={
            "repo": "https://github.com/example/shop.git",
            "ref": "v1.2",
            "module": "shop.wsgi:app",
        }
    )
    node = render_node(s)
    document = yaml.safe_load(node.user_data)
    assert "git" in document["packages"]
    runcmd = "\n".join(document["runcmd"])
    assert (
        "git clone --depth 1 --branch v1.2 https://github.com/example/shop.git /opt/pyscale/app"
        in runcmd
    )
    assert "pip install --no-cache-dir -c /etc/pyscale/constraints.txt /opt/pyscale/app" in runcmd
    assert 'wsgi_app = "shop.wsgi:app"' in node.file("/etc/pyscale/gunicorn.conf.py").content
    assert not [f for f in node.files if f.path.startswith(render.DEMO_DIR)]


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_the_demo_app_is_embedded_file_by_file(interface: str) -> None:
    """Every file of app/ but the other interface's module (the user-data is capped)."""
    node = render_node(settings_for(app={"interface": interface}))
    embedded = {f.path: f.content for f in node.files if f.path.startswith(render.DEMO_DIR)}
    app = REPO / "app"
    other = "asgi" if interface == "wsgi" else "wsgi"
    expected = {
        f"{render.DEMO_DIR}/{p.relative_to(app).as_posix()}": p.read_text()
        for p in app.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        and not any(part.endswith(".egg-info") for part in p.parts) and p.stem != other
    }  # fmt: skip
    assert f"{render.DEMO_DIR}/pyproject.toml" in expected, "app/pyproject.toml is missing"
    assert f"{render.DEMO_DIR}/pyscale_demo/{interface}.py" in expected
    assert f"{render.DEMO_DIR}/pyscale_demo/common.py" in expected
    assert embedded == expected
    # The demo runs from its directory (the unit's WorkingDirectory): nothing installs it.
    runcmd = "\n".join(yaml.safe_load(node.user_data)["runcmd"])
    assert f"/etc/pyscale/constraints.txt {render.DEMO_DIR}" not in runcmd
    unit = node.file("/etc/systemd/system/pyscale.service").content
    assert f"WorkingDirectory={render.DEMO_DIR}\n" in unit
    # And the worker module of the interface only.
    worker = "pyscale_worker" if interface == "wsgi" else "pyscale_asgi_worker"
    assert {f.path for f in node.files if f.path.endswith("worker.py")} == {
        f"/etc/pyscale/{worker}.py"
    }
    conf = node.file("/etc/pyscale/gunicorn.conf.py").content
    assert f'worker_class = "{worker}.Worker"' in conf


def test_the_node_installs_the_lock_with_hashes() -> None:
    node = render_node(settings_for())
    lock = node.file("/etc/pyscale/requirements.txt").content
    assert lock == render.NODE_LOCK.read_text()
    runcmd = "\n".join(yaml.safe_load(node.user_data)["runcmd"])
    assert (
        "/opt/pyscale/venv/bin/pip install --no-cache-dir --require-hashes --only-binary :all: "
        "-r /etc/pyscale/requirements.txt" in runcmd
    )
    # Every requirement pinned and hashed: pip refuses the whole file otherwise.
    requirements = [r for r in lock.replace("\\\n", " ").splitlines() if r and r[0] != "#"]
    assert requirements
    for requirement in requirements:
        assert re.match(r"^[a-z0-9-]+==\S+( ;[^\\-]+)? +--hash=sha256:[0-9a-f]{64}", requirement)


def test_constraints_for_a_git_app_are_the_lock_pins(tmp_path: Path) -> None:
    constraints = render_node(settings_for()).file("/etc/pyscale/constraints.txt").content
    pins = render.node_pins()
    # Gunicorn's gevent worker imports packaging: the extra's dependency is locked too.
    assert {"gunicorn", "gevent", "packaging", "greenlet"} <= set(pins)
    for name, version in pins.items():
        assert f"{name}=={version}\n" in constraints
    empty = tmp_path / "node.lock"
    empty.write_text("# nothing\n")
    with pytest.raises(ValueError, match="pins no package"):
        render.node_pins(empty)


def test_packages_and_user() -> None:
    document = yaml.safe_load(render_node(settings_for()).user_data)
    assert document["package_update"] and document["package_upgrade"]
    for package in (
        "nginx",
        "python3-venv",
        "prometheus-node-exporter",
        "prometheus-nginx-exporter",
    ):
        assert package in document["packages"]
    user = next(u for u in document["users"] if isinstance(u, dict))
    assert user["name"] == "pyscale" and user["system"] and user["shell"] == "/usr/sbin/nologin"


def test_runcmd_stops_at_the_first_failing_step_and_names_it() -> None:
    runcmd = yaml.safe_load(render_node(settings_for()).user_data)["runcmd"]
    first = runcmd[0].splitlines()
    assert "set -eu" in first and first[-1] == "trap record_failure EXIT"
    assert f">{NODE.bootstrap_failed}" in runcmd[0]
    # Every later step names itself before it runs anything.
    for entry in runcmd[1:]:
        commands = [line for line in entry.splitlines() if not line.startswith("#")]
        assert commands[0].startswith("step="), entry
    joined = "\n".join(runcmd)
    # The exporters step finds the private address Gunicorn serves the app's metrics on.
    steps = ["sysctl --system", "python3 -m venv", "/usr/local/sbin/pyscale-exporters",
             "systemctl daemon-reload", "systemctl enable --now pyscale.service",
             "systemctl restart nginx.service"]  # fmt: skip
    positions = [joined.index(step) for step in steps]
    assert positions == sorted(positions)


def test_exporters_listen_on_the_private_address_only() -> None:
    script = render_node(settings_for()).file("/usr/local/sbin/pyscale-exporters")
    assert script.permissions == "0755"
    assert f'"$address" {NODE.node_exporter_port}' in script.content
    assert f'"$address" {NODE.nginx_exporter_port} {NODE.stub_status_port}' in script.content
    # The app's metrics, served by Gunicorn's arbiter on the same address.
    assert "PYSCALE_METRICS_ADDRESS=%s" in script.content
    unit = render_node(settings_for()).file("/etc/systemd/system/pyscale.service").content
    assert "EnvironmentFile=/etc/pyscale/metrics-address\n" in unit
    site = render_node(settings_for()).file("/etc/nginx/conf.d/pyscale.conf").content
    assert f"listen 127.0.0.1:{NODE.stub_status_port};" in site


def test_write_tree_lays_out_user_data_and_files_with_modes(tmp_path: Path) -> None:
    node = render_node(settings_for())
    render.write_tree(node, tmp_path)
    assert (tmp_path / "user-data").read_text() == node.user_data
    env = tmp_path / "files/etc/pyscale/env"
    assert env.read_text() == node.file("/etc/pyscale/env").content
    assert env.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "files/etc/nginx/nginx.conf").exists()


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_fits_the_clouds_limit(stack: str) -> None:
    s = settings.load(stack, REPO)
    size = len(render_node(s).user_data.encode())
    assert size <= clouds.get(s.cloud).user_data_limit


@pytest.mark.parametrize(
    ("stack", "refusal"),
    [("prod-ovh", "ovh accepts at most 49149"), ("prod", "digitalocean accepts at most 65536")],
)
def test_oversized_user_data_fails_the_render_naming_the_largest_file(
    stack: str, refusal: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'big'\n")
    # Random, so that gzip (the demo app's encoding in the user-data) cannot shrink it.
    noise = random.Random(0)
    (tmp_path / "big.py").write_text(
        "".join(f"# {noise.getrandbits(308):077x}\n" for _ in range(875))
    )
    monkeypatch.setattr(cloudinit, "APP_DIR", tmp_path)
    with pytest.raises(ValueError, match=rf"{refusal}\. Largest files: "
                       r"/opt/pyscale/demo/big\.py \(70000 bytes\)"):  # fmt: skip
        render_node(settings.load(stack, REPO))


def test_a_document_over_the_limit_compresses_its_largest_files_until_it_fits() -> None:
    """OVHcloud's single node with its own TLS writes the most files: its document fits
    48 KiB only with its largest configuration files gzipped; the same node on DigitalOcean
    (64 KiB) keeps them readable."""
    raw = {"cloud": "ovh", "ovhServiceName": "0123456789abcdef" * 2, "tls": "node",
           "nodeCount": 1, "targetConcurrency": 2000, "region": "GRA11"}  # fmt: skip
    ovh = render_node(settings_for("staging", **raw))
    assert len(ovh.user_data.encode()) <= clouds.get("ovh").user_data_limit
    squeezed = {f.path for f in ovh.files if f.compressed and f.path.startswith("/etc/nginx/")}
    assert "/etc/nginx/conf.d/pyscale.conf" in squeezed, "the largest plain file goes first"
    raw |= {"cloud": "digitalocean", "region": "fra1", "ovhServiceName": None}
    do = render_node(settings_for("staging", **{k: v for k, v in raw.items() if v}))
    assert not [f.path for f in do.files if f.compressed and f.path.startswith("/etc/nginx/")]


def test_worker_recycling_is_staggered_not_jittered() -> None:
    """The rendered post_fork hook: each first-generation worker waits a different multiple
    of the stagger more, replacements recycle at max_requests, and at the node's CPU ceiling two
    workers' restarts are always at least a second apart (the articles' 10,000 +- 1,000 put
    every worker of a busy node within seconds of the others)."""
    s = settings.load("prod", REPO)
    node = render_node(s)
    namespace: dict = {}
    exec(node.file("/etc/pyscale/gunicorn.conf.py").content, namespace)
    g = capacity.plan(s).gunicorn
    assert "max_requests_jitter" not in namespace  # Gunicorn's default: 0

    def recycled_after(age: int) -> int:
        worker = types.SimpleNamespace(age=age, max_requests=g.max_requests)
        namespace["post_fork"](None, worker)
        return worker.max_requests

    first = sorted(recycled_after(age) for age in range(1, g.workers + 1))
    assert first == [g.max_requests + k * g.max_requests_stagger for k in range(g.workers)]
    assert recycled_after(g.workers + 1) == g.max_requests
    assert g.restart_spacing_s >= 1
    worker_rps = capacity.throughput.node_rps_ceiling(s.node_size.vcpus, s.workload.cpu_ms)
    assert g.max_requests / (worker_rps / g.workers) >= capacity.seeds.RECYCLE_S - 1


@pytest.mark.parametrize("stack", STACKS)
def test_the_nodes_services_cannot_reach_the_metadata_service(stack: str) -> None:
    """The metadata service hands the user-data (the data stores' credentials) to whoever
    asks; the app and Nginx never need it (issue 16, family 5)."""
    node = render_node(settings.load(stack, REPO))
    for path in ("/etc/systemd/system/pyscale.service",
                 "/etc/systemd/system/nginx.service.d/pyscale.conf"):  # fmt: skip
        lines = node.file(path).content.splitlines()
        assert f"IPAddressDeny={render.NODE.metadata_address}" in lines, path


@pytest.mark.parametrize("stack", STACKS)
def test_ssh_takes_keys_only(stack: str) -> None:
    node = render_node(settings.load(stack, REPO))
    document = yaml.safe_load(node.user_data)
    assert document["ssh_pwauth"] is False
