"""The gateway in front of the app's pods (platform: kubernetes): a Gateway API Gateway of
NGINX Gateway Fabric's class, whose Service gets the cloud's load balancer, the route to the
app, and with tls managed cert-manager's Let's Encrypt issuer and the HTTP-to-HTTPS redirect.
Pure, like the rest of pyscale/render/kubernetes.py, which includes these manifests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyscale.settings import Settings

GATEWAY = "pyscale"
NAMESPACE = "pyscale"
APP = "pyscale"
# NGINX Gateway Fabric's GatewayClass (its Helm chart creates it): Nginx, still maintained,
# where the community ingress-nginx was retired (README, "Kubernetes").
GATEWAY_CLASS = "nginx"
# The label Gateway API implementations put on the pods they provision for a Gateway.
GATEWAY_POD_LABEL = "gateway.networking.k8s.io/gateway-name"
# cert-manager's ClusterIssuer for tls: managed, and the Secret its Certificate fills.
ISSUER = "letsencrypt"
ACME_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
TLS_SECRET = "pyscale-tls"


def manifests(
    settings: Settings,
    service_annotations: Mapping[str, str],
    *,
    meta: Callable[..., dict[str, Any]],
    labels: Callable[[Settings], dict[str, str]],
) -> list[dict[str, Any]]:
    """The Gateway (its Service gets the cloud's load balancer, sized by the plan through
    the cloud's annotations), the route to the app, and with tls managed the issuer and the
    HTTP-to-HTTPS redirect."""
    tls = settings.tls == "managed"
    hostname = {"hostname": settings.domain} if settings.domain else {}
    listeners: list[dict[str, Any]] = [
        {"name": "http", "protocol": "HTTP", "port": 80, **hostname},
    ]
    annotations: dict[str, str] = {}
    if tls:
        listeners.append(
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": 443,
                **hostname,
                "tls": {"mode": "Terminate", "certificateRefs": [{"name": TLS_SECRET}]},
            }
        )
        annotations["cert-manager.io/cluster-issuer"] = ISSUER
    hostnames = {"hostnames": [settings.domain]} if settings.domain else {}
    backend = {"backendRefs": [{"name": APP, "port": 80}]}
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": meta(GATEWAY, settings, annotations=annotations),
            "spec": {
                "gatewayClassName": GATEWAY_CLASS,
                # Copied by the controller onto the Service it provisions (Gateway API
                # GEP-1867), where the cloud's controller reads them.
                "infrastructure": {"annotations": dict(service_annotations)},
                "listeners": listeners,
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta(APP, settings),
            "spec": {
                "parentRefs": [{"name": GATEWAY, "sectionName": "https" if tls else "http"}],
                **hostnames,
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], **backend}],
            },
        },
    ]
    if tls:
        items.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": meta(f"{APP}-redirect", settings),
                "spec": {
                    "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
                    **hostnames,
                    "rules": [
                        {
                            "filters": [
                                {
                                    "type": "RequestRedirect",
                                    "requestRedirect": {"scheme": "https", "statusCode": 301},
                                }
                            ]
                        }
                    ],
                },
            }
        )
        items.append(_issuer(settings, labels))
    return items


def _issuer(settings: Settings, labels: Callable[[Settings], dict[str, str]]) -> dict[str, Any]:
    """Let's Encrypt through the gateway: cert-manager answers HTTP-01 with an HTTPRoute on
    the gateway's http listener, and renews the certificate into TLS_SECRET."""
    acme: dict[str, Any] = {
        "server": ACME_SERVER,
        "privateKeySecretRef": {"name": f"{ISSUER}-account"},
        "solvers": [
            {
                "http01": {
                    "gatewayHTTPRoute": {
                        "parentRefs": [
                            {
                                "name": GATEWAY,
                                "namespace": NAMESPACE,
                                "kind": "Gateway",
                                "sectionName": "http",
                            }
                        ]
                    }
                }
            }
        ],
    }
    if settings.alerts.emails:
        acme["email"] = settings.alerts.emails[0]  # expiry warnings go to on-call
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": ISSUER, "labels": labels(settings)},
        "spec": {"acme": acme},
    }
