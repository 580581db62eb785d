"""`pyscale:kubernetes:Workloads`: what runs in the cluster, the same on both clouds.

The cluster's add-ons (the Gateway API CRDs, NGINX Gateway Fabric, and cert-manager for tls
managed) as Helm releases and a CRD file, then every manifest pyscale/render/kubernetes.py
renders, each as the pulumi-kubernetes resource of its kind, through a provider built from
the cluster's kubeconfig. The env Secret is rendered inside the data stores' Outputs and
stays a Pulumi secret; so does the kubeconfig.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from pyscale.capacity import CapacityPlan
from pyscale.render import kubernetes as manifests
from pyscale.render.secrets import NodeSecrets
from pyscale.settings import Settings

# Gateway API CRDs (standard channel) the gateway and its routes need, at the release NGINX
# Gateway Fabric 2.6 supports (docs.nginx.com/nginx-gateway-fabric/overview/
# technical-specifications: NGF 2.6.5, Gateway API 1.5.1, Kubernetes 1.31+); NGF's chart does
# not install them. The manifests are validated against these CRDs (schema/kubernetes/).
GATEWAY_API_VERSION = "v1.5.1"
GATEWAY_API_CRDS = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
    f"{GATEWAY_API_VERSION}/standard-install.yaml"
)
GATEWAY_CHART = "oci://ghcr.io/nginx/charts/nginx-gateway-fabric"
GATEWAY_CHART_VERSION = "2.6.5"
GATEWAY_NAMESPACE = "nginx-gateway"
CERT_MANAGER_CHART = "cert-manager"
CERT_MANAGER_REPO = "https://charts.jetstack.io"
CERT_MANAGER_VERSION = "v1.21.1"
CERT_MANAGER_NAMESPACE = "cert-manager"

# Each rendered kind as its pulumi-kubernetes class; Gateway API and cert-manager kinds are
# custom resources.
_TYPED: Mapping[str, Any] = {
    "Namespace": k8s.core.v1.Namespace,
    "ConfigMap": k8s.core.v1.ConfigMap,
    "Service": k8s.core.v1.Service,
    "Deployment": k8s.apps.v1.Deployment,
    "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
}


@dataclass(frozen=True)
class WorkloadsArgs:
    settings: Settings
    plan: CapacityPlan
    kubeconfig: pulumi.Input[str]  # secret
    primary_uri: pulumi.Input[str]
    read_uris: pulumi.Input[list[str]]
    cache_uri: pulumi.Input[str]
    cas: Sequence[pulumi.Input[str]]  # the data stores' CA certificates (PEM)
    # What the cloud's controller reads on the gateway's Service: the load balancer's size.
    service_annotations: Mapping[str, str] = field(default_factory=dict)


def _after(on: pulumi.ResourceOptions, *depends: pulumi.Resource | None) -> pulumi.ResourceOptions:
    """`on`, waiting for `depends` (the None among them left out)."""
    return pulumi.ResourceOptions.merge(
        on, pulumi.ResourceOptions(depends_on=[d for d in depends if d is not None])
    )


@pulumi.type_token("pyscale:kubernetes:Workloads")
class Workloads(pulumi.ComponentResource):
    """The gateway, the app's Deployment and its companions, in the stack's cluster."""

    address: pulumi.Output[str]  # the gateway's load-balancer address

    def __init__(
        self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan = args.settings, args.plan
        provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=args.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        on = pulumi.ResourceOptions(parent=self, provider=provider)
        addons = self._addons(name, settings, on)
        rendered = manifests.manifests(plan, settings, args.service_annotations)
        namespace = self._resource(
            f"{name}-namespace-{manifests.NAMESPACE}", rendered.get("Namespace"), on, []
        )
        # What the pods read at start, before the Deployment: its CA and its environment.
        bundle = pulumi.Output.all(*args.cas).apply(
            lambda pems: "".join(dict.fromkeys(p.strip() + "\n" for p in pems))
        )
        ca = k8s.core.v1.ConfigMap(
            f"{name}-configmap-{manifests.CA_CONFIG_MAP}",
            metadata=manifests.ca_config_map(settings)["metadata"],
            data=bundle.apply(lambda pem: {"provider-ca.pem": pem}),
            opts=_after(on, namespace),
        )
        secret = pulumi.Output.all(args.primary_uri, args.read_uris, args.cache_uri, bundle).apply(
            lambda v: manifests.env_secret(
                plan, settings, NodeSecrets(v[0], tuple(v[1]), v[2], provider_ca=v[3])
            )["stringData"]
        )
        env = k8s.core.v1.Secret(
            f"{name}-secret-{manifests.ENV_SECRET}",
            metadata=manifests.env_secret_metadata(settings),
            type="Opaque",
            string_data=pulumi.Output.secret(secret),
            opts=_after(on, namespace),
        )
        gateway = None
        for item in rendered.items:
            kind, item_name = item["kind"], item["metadata"]["name"]
            if kind == "Namespace":
                continue
            depends: list[pulumi.Resource] = [namespace]
            if kind in ("Gateway", "HTTPRoute", "ClusterIssuer"):
                depends += addons
            if kind == "Deployment":
                depends += [ca, env]
            resource = self._resource(f"{name}-{kind.lower()}-{item_name}", item, on, depends)
            if kind == "Gateway":
                gateway = resource
        # The Service the gateway controller provisions for the Gateway, once it exists: its
        # load balancer's address is the stack's entry.
        gateway_service = k8s.core.v1.Service.get(
            f"{name}-gateway-service",
            f"{manifests.NAMESPACE}/{manifests.GATEWAY}-{manifests.GATEWAY_CLASS}",
            opts=_after(on, gateway),
        )
        self.address = gateway_service.status.apply(
            lambda status: (
                status.load_balancer.ingress[0].ip
                if status and status.load_balancer and status.load_balancer.ingress
                else ""
            )
        )
        self.register_outputs({"address": self.address})

    def _addons(
        self, name: str, settings: Settings, on: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """The Gateway API CRDs, the gateway controller, and cert-manager for tls managed."""
        crds = k8s.yaml.v2.ConfigFile(f"{name}-gateway-api-crds", file=GATEWAY_API_CRDS, opts=on)
        gateway = k8s.helm.v3.Release(
            f"{name}-gateway-controller",
            name="nginx-gateway",
            chart=GATEWAY_CHART,
            version=GATEWAY_CHART_VERSION,
            namespace=GATEWAY_NAMESPACE,
            create_namespace=True,
            atomic=True,
            opts=_after(on, crds),
        )
        addons: list[pulumi.Resource] = [crds, gateway]
        if settings.tls == "managed":
            addons.append(
                k8s.helm.v3.Release(
                    f"{name}-cert-manager",
                    name="cert-manager",
                    chart=CERT_MANAGER_CHART,
                    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CERT_MANAGER_REPO),
                    version=CERT_MANAGER_VERSION,
                    namespace=CERT_MANAGER_NAMESPACE,
                    create_namespace=True,
                    atomic=True,
                    # Its CRDs with it; its Gateway API support reads Gateways' annotations.
                    values={"crds": {"enabled": True}, "config": {"enableGatewayAPI": True}},
                    opts=_after(on, crds),
                )
            )
        return addons

    @staticmethod
    def _resource(
        name: str,
        item: dict[str, Any],
        on: pulumi.ResourceOptions,
        depends: list[pulumi.Resource],
    ) -> pulumi.CustomResource:
        """`item` as the resource of its kind (a custom resource for CRD kinds)."""
        kind = item["kind"]
        options = pulumi.ResourceOptions.merge(on, pulumi.ResourceOptions(depends_on=depends))
        if kind == "Deployment":
            # The autoscaler owns the replica count once the Deployment exists.
            options = pulumi.ResourceOptions.merge(
                options, pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
            )
        fields = {k: v for k, v in item.items() if k not in ("apiVersion", "kind")}
        cls = _TYPED.get(kind)
        if cls is None:
            return k8s.apiextensions.CustomResource(
                name, api_version=item["apiVersion"], kind=kind, opts=options, **fields
            )
        return cls(name, opts=options, **fields)
