"""The kubeconfig both clouds return for a new cluster, as the mocks answer it. Pure."""

from __future__ import annotations


def kubeconfig(cluster: str, server: str, user: str) -> str:
    """A kubeconfig as both clouds return one for a new cluster (the mocks' answer): one
    cluster, one admin user with a documentation-style token, one context."""
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n"
        "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n"
        f"users:\n- name: {user}\n  user:\n    token: REDACTED-example-token\n"
        f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {user}\n"
        f"current-context: {cluster}\n"
    )
