"""pyscale/render, the edge: what the node's Nginx files say about compression, errors,
security headers and trust, for each shape of stack. tests/node/test_edge*.py sends the
real requests; tests/render/test_real_tools.py has Nginx and gixy read every file."""

import re

import pytest
import yaml

from pyscale import capacity, nodeos, settings
from pyscale.render import NODE, RenderedNode, cloudinit
from tests.unit.test_render import REPO, STACKS, render_node, settings_for

# The headers a client could forge to steer an app behind a proxy (proxy.conf, note 3).
SPOOFABLE = ("Forwarded", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix",
             "X-Forwarded-Ssl", "X-Forwarded-Scheme", "True-Client-IP", "X-Client-IP",
             "X-Original-URL", "X-Rewrite-URL")  # fmt: skip


def nginx_files(node: RenderedNode) -> dict[str, str]:
    return {f.path: f.content for f in node.files if f.path.startswith("/etc/nginx/")}


def directives(text: str) -> str:
    """The file without its comments."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_brotli_is_on_by_default_with_gzips_types_and_its_modules() -> None:
    node = render_node(settings_for())
    assert set(cloudinit.BROTLI_PACKAGES) <= set(yaml.safe_load(node.user_data)["packages"])
    main = directives(node.file("/etc/nginx/nginx.conf").content)
    # The modules' load_module lines come in at the top level, before any http directive.
    assert main.index("include /etc/nginx/modules-enabled/*.conf;") < main.index("http {")
    assert "\n    brotli on;" in main
    assert f"brotli_comp_level {NODE.brotli_comp_level};" in main
    types = " ".join(NODE.compressed_types)
    assert f"gzip_types {types};" in main and f"brotli_types {types};" in main
    static = node.file("/etc/nginx/pyscale/locations.conf").content
    assert "brotli_static on;" in static and "gzip_static on;" in static


def test_without_brotli_no_module_is_installed_and_no_directive_written() -> None:
    node = render_node(settings_for(edge={"brotli": False}))
    packages = yaml.safe_load(node.user_data)["packages"]
    assert not [p for p in packages if p.startswith("libnginx-mod-")]
    for path, text in nginx_files(node).items():
        assert "brotli" not in directives(text), path
    assert "gzip on;" in node.file("/etc/nginx/nginx.conf").content


def test_the_brotli_packages_exist_on_every_node_os() -> None:
    """The releases the template's note names (packages.debian.org, packages.ubuntu.com),
    and nothing else: a new node OS must be looked up before it is added."""
    note = (REPO / "cloud-init/files/etc/nginx/nginx.conf.j2").read_text()
    assert set(nodeos.SYSTEMS) == {"debian-13", "debian-12", "ubuntu-24.04"}
    for release in ("Debian 12", "13 1.0.0~rc-6", "Ubuntu 24.04"):
        assert release in note


@pytest.mark.parametrize("key", sorted(nodeos.SYSTEMS))
def test_http2_is_written_for_the_node_os_nginx(key: str) -> None:
    s = settings_for("dev", nodeImage=key, tls="node", nodeCount=1, targetConcurrency=2000)
    node = render_node(s)
    tls = directives(node.file("/etc/nginx/pyscale/tls.conf").content)
    if nodeos.get(key).nginx >= (1, 25, 1):
        assert tls.count("http2 on;") == 2 and "ssl http2" not in tls
    else:
        assert "http2 on;" not in tls and tls.count("ssl http2") == 2
    # Obsolete from Nginx 1.25.1 (server push is gone): never written for any version.
    for path, text in nginx_files(node).items():
        assert "http2_push" not in text, path


def test_the_error_page_covers_nginxs_own_errors_only() -> None:
    node = render_node(settings_for())
    page = node.file("/etc/nginx/pyscale/errors/50x.html")
    assert page.content == cloudinit.ERROR_PAGE.read_text()
    locations = directives(node.file("/etc/nginx/pyscale/locations.conf").content)
    assert "error_page 502 503 504 /50x.html;" in locations
    assert re.search(
        r"location = /50x\.html \{\n\s+internal;\n\s+root /etc/nginx/pyscale/errors;", locations
    )
    # The app's own 5xx are its answers: nothing intercepts them.
    for path, text in nginx_files(node).items():
        assert "proxy_intercept_errors" not in directives(text), path
    # The health check stays plain text, for the app being down too.
    health = directives(node.file("/etc/nginx/pyscale/health.conf").content)
    assert "error_page 502 504 =503 @pyscale_app_down;" in health
    assert 'return 503 "app not answering\\n";' in health
    assert (
        'return 503 "draining\\n";' in health
        and 'return 503 "bootstrap not finished\\n";' in health
    )


@pytest.mark.parametrize("stack", STACKS)
def test_add_header_lives_in_headers_conf_only(stack: str) -> None:
    """Nginx drops a level's inherited add_header as soon as it has one of its own: one file
    holds them all, included where the app is served, and HSTS is sent once."""
    node = render_node(settings.load(stack, REPO))
    for path, text in nginx_files(node).items():
        if path != "/etc/nginx/pyscale/headers.conf":
            assert "add_header" not in directives(text), path
    headers = directives(node.file("/etc/nginx/pyscale/headers.conf").content)
    assert re.findall(r"^add_header ([\w-]+) \$\w+ always;$", headers, re.MULTILINE) == [
        "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
        "Referrer-Policy",
    ]  # fmt: skip
    assert (
        "include /etc/nginx/pyscale/headers.conf;"
        in node.file("/etc/nginx/pyscale/locations.conf").content
    )


def test_hsts_is_sent_for_https_only_with_the_nodes_max_age() -> None:
    site = node_site(settings_for())
    hsts = site[site.index("$pyscale_hsts {") :].split("}")[0]
    assert f'"|https" "max-age={NODE.hsts_max_age_s}";' in hsts
    assert 'default "";' in hsts
    # Keyed on the app's own header first: an app that sends one keeps it.
    assert 'map "$upstream_http_strict_transport_security|$pyscale_forwarded_proto"' in site


def test_spoofable_forwarding_headers_are_cleared() -> None:
    proxy = directives(render_node(settings_for()).file("/etc/nginx/pyscale/proxy.conf").content)
    for header in SPOOFABLE:
        assert f'proxy_set_header {header} "";' in proxy
    # What the app is told instead, from Nginx's own view of the request.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in proxy
    assert "proxy_set_header X-Forwarded-Proto $pyscale_forwarded_proto;" in proxy


def node_site(s: settings.Settings) -> str:
    return directives(render_node(s).file("/etc/nginx/conf.d/pyscale.conf").content)


@pytest.mark.parametrize("tls", ["node", "off"])
def test_without_a_load_balancer_no_forwarded_address_or_scheme_is_trusted(tls: str) -> None:
    s = settings_for("dev", vpcCidr="10.20.0.0/16", tls=tls, nodeCount=1, targetConcurrency=2000)
    assert not capacity.plan(s).load_balancer.enabled
    site = node_site(s)
    assert "set_real_ip_from" not in site and "real_ip_header" not in site
    assert "$http_x_forwarded_proto" not in site
    assert "map $scheme $pyscale_forwarded_proto {\n    default $scheme;\n}" in site
    # The VPC stays private for the per-client limits; it is trusted for nothing else.
    assert site.count("10.20.0.0/16") == 1


def test_behind_a_load_balancer_the_vpc_alone_forwards() -> None:
    s = settings_for(vpcCidr="10.20.0.0/16")
    assert capacity.plan(s).load_balancer.enabled
    site = node_site(s)
    assert "set_real_ip_from 10.20.0.0/16;" in site
    assert re.search(
        r"geo \$realip_remote_addr \$pyscale_from_lb \{\n\s+default 0;\n\s+10\.20\.0\.0/16 1;", site
    )
