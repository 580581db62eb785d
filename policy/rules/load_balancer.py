"""The load balancer: TLS at the edge, plain HTTP sent to HTTPS, and health checks."""

from __future__ import annotations

from .reading import UNKNOWN, Finding, Res, at
from .tokens import DO_LOAD_BALANCER, OVH_L7_POLICY, OVH_LISTENER, OVH_LOAD_BALANCER, OVH_POOL


def _do_load_balancer_https(lb: Res) -> list[Finding]:
    findings: list[Finding] = []
    rules = [r for r in lb.get("forwardingRules") or [] if isinstance(r, dict)]
    https = [r for r in rules if str(r.get("entryProtocol", "")).lower() in ("https", "http2")]
    if not https:
        findings.append(at(lb, "no forwarding rule with entryProtocol https"))
    for rule in https:
        if not (rule.get("certificateName") or rule.get("certificateId")):
            findings.append(at(lb, f"HTTPS rule on {rule.get('entryPort')} has no certificate"))
    if lb.get("redirectHttpToHttps") not in (True, UNKNOWN):
        findings.append(at(lb, "redirectHttpToHttps is not true"))
    if not lb.get("healthcheck"):
        findings.append(at(lb, "no healthcheck; a dead node keeps receiving traffic"))
    return findings


def _ovh_load_balancer_https(lb: Res, resources: list[Res]) -> list[Finding]:
    listeners = [r for r in resources if r.type == OVH_LISTENER]
    redirects = [
        r
        for r in resources
        if r.type == OVH_L7_POLICY
        and r.get("action") in ("REDIRECT_PREFIX", "REDIRECT_TO_URL")
        and str(r.get("redirectPrefix") or r.get("redirectUrl") or "").startswith("https://")
    ]
    findings: list[Finding] = []
    if not any(r.get("protocol") in ("TERMINATED_HTTPS", "HTTPS") for r in listeners):
        findings.append(at(lb, "no TERMINATED_HTTPS listener"))
    for listener in (r for r in listeners if r.get("protocol") == "HTTP"):
        if not any(listener.urn in p.dependencies for p in redirects):
            findings.append(at(listener, "HTTP listener without an L7 redirect to https://"))
    for pool in (r for r in resources if r.type == OVH_POOL):
        if not pool.get("healthMonitor"):
            findings.append(at(pool, "pool without healthMonitor"))
    return findings


def check_load_balancer_https(resources: list[Res]) -> list[Finding]:
    """The balancer terminates TLS, sends plain HTTP to HTTPS, and checks node health."""
    findings: list[Finding] = []
    for lb in resources:
        if lb.type == DO_LOAD_BALANCER:
            findings += _do_load_balancer_https(lb)
        elif lb.type == OVH_LOAD_BALANCER:
            findings += _ovh_load_balancer_https(lb, resources)
    return findings


def check_http_health_check(resources: list[Res]) -> list[Finding]:
    """A TCP check only proves the port is open; /healthz proves Nginx and Gunicorn answer."""
    findings: list[Finding] = []
    for res in resources:
        if res.type == DO_LOAD_BALANCER:
            check, kind, path = res.get("healthcheck"), "protocol", "path"
        elif res.type == OVH_POOL:
            check, kind, path = res.get("healthMonitor"), "type", "urlPath"
        else:
            continue
        if isinstance(check, dict) and (
            str(check.get(kind, "")).lower() not in ("http", "https") or not check.get(path)
        ):
            findings.append(
                at(res, f"health check is {check.get(kind)} without {path}; probe /healthz")
            )
    return findings
