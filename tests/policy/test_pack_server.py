"""The pack as the Pulumi CLI starts it: `__main__.py` run as a script in policy/, a gRPC
server on a port it prints, asked over gRPC for its policies and for a stack analysis.

This is the one test that starts the server (in a child process it stops at the end).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import deserialize as sdk_deserialize

from policy import rules

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
STACK_URN = "urn:pulumi:prod::pyscale::pulumi:pulumi:Stack::pyscale-prod"
URI = "postgresql://pyscale:hunter2@db.example:25060/app"

# The CLI's virtualenv (policy/venv) holds only policy/requirements.txt, but this one has the
# repository installed, where `import policy.rules...` inside the pack would still work. So
# the child makes the repository's packages unimportable, then runs the script the way
# `python -m pulumi.policy` does (runpy.run_path): the pack must stand on its top-level
# `engine` and `rules` alone, whose modules import each other only relatively.
REPOSITORY_PACKAGES = ("policy", "components", "pyscale", "bench")
RUN_PACK_ALONE = (
    f"import runpy, sys; sys.modules.update(dict.fromkeys({REPOSITORY_PACKAGES!r})); "
    "runpy.run_path('__main__.py', run_name='__main__')"
)


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    server = subprocess.Popen(
        [sys.executable, "-c", RUN_PACK_ALONE],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), f"no port from the pack: {port!r} {server.stderr.read()}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_pack_lists_every_rule_with_its_enforcement(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "pyscale"
    served = {p.name: p.enforcementLevel for p in info.policies}
    expected = {
        p.name: analyzer_pb2.MANDATORY
        if p.enforcement_level is rules.MANDATORY
        else analyzer_pb2.ADVISORY
        for p in rules.POLICIES
    }
    assert served == expected


def _analyze_export(analyzer, value) -> list[str]:
    props = struct_pb2.Struct()
    json_format.ParseDict({"database_primary_uri": value}, props)
    request = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                urn=STACK_URN, type=rules.STACK, name="pyscale-prod", properties=props
            )
        ]
    )
    return [d.policyName for d in analyzer.AnalyzeStack(request).diagnostics]


def test_served_pack_keeps_secret_markers(analyzer) -> None:
    secret = {sdk_deserialize.SPECIAL_SIG_KEY: sdk_deserialize.SPECIAL_SECRET_SIG, "value": URI}
    assert _analyze_export(analyzer, secret) == []
    assert _analyze_export(analyzer, URI) == ["no-plaintext-secrets"]
