"""What `pyscale plan` shows: the resources an offline run registered, the capacity plan,
the monthly estimate, what the account needs first and the policy verdicts, as one JSON
document or as text for people."""

from __future__ import annotations

import hashlib
import json
import sys
from typing import TYPE_CHECKING, Any

from pyscale import capacity, prerequisites, pricing, render
from pyscale.capacity.autoscale import AutoscalePlan
from pyscale.capacity.pods import PodPlan
from pyscale.render import kubernetes

if TYPE_CHECKING:  # an offline run is read here; the engine (and Pulumi) is the caller's
    from pyscale import offline

SECRET = "[secret]"
# Inputs worth a glance in the text listing; the JSON carries all of them.
KEY_INPUTS = (
    "region", "size", "sizeUnit", "flavorName", "flavorId", "imageId", "image", "engine",
    "version", "nodeCount", "plan", "ipRange", "cidr", "mode", "dropletTag", "redirectHttpToHttps",
    "enableBackendKeepalive", "vlanId", "network", "protocol",
)  # fmt: skip


def _mask(value: Any, secret: bool) -> Any:
    return SECRET if secret else value


def _resource_rows(run: offline.Run) -> list[dict[str, Any]]:
    rows = []
    # Registration order depends on timing: sort so that two plans diff cleanly.
    for r in sorted(
        run.resources, key=lambda r: (not r.type.endswith(":WebStack"), r.type, r.name)
    ):
        if r.type.startswith("pulumi:providers:"):
            continue
        inputs = {k: _mask(v, k in r.secret_inputs) for k, v in sorted(r.inputs.items())}
        rows.append(
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "protect": r.protect,
                # The URNs a moved resource answers to: pulumi up keeps it, not replaces it.
                "aliases": list(r.aliases),
                # How pulumi up treats a change: replace order, ignored inputs, timeouts.
                "options": {k: v for k, v in r.options.items() if k != "dependencies"},
                "inputs": inputs,
            }
        )
    return rows


def plan_document(run: offline.Run, violations: list[Any]) -> dict[str, Any]:
    # The program exports the plan and the estimate; the document shows those, not a recount.
    cost = run.outputs["monthly_cost_estimate"][0]
    return {
        "stack": run.stack,
        "cloud": run.settings.cloud,
        "region": run.settings.region,
        "environment": run.settings.environment,
        "resources": _resource_rows(run),
        "capacity": run.outputs["capacity"][0],
        "monthly_cost": cost["total"],
        "currency": cost["currency"],
        "cost": cost,
        "outputs": {k: _mask(v, secret) for k, (v, secret) in run.outputs.items()},
        "policy": [vars(v) for v in violations],
        # Provider and pyscale configuration as the program ran with it, secrets masked:
        # an endpoint or a provider option changing is a change a reviewer must see.
        "config": _config(run),
        "prerequisites": [p.to_dict() for p in prerequisites.for_stack(run.settings, run.plan)],
        **_cost_at_minimum(run),
        **node_files(run),
    }


def _cost_at_minimum(run: offline.Run) -> dict[str, Any]:
    """A fleet that scales itself costs `cost` at its maximum and this at its minimum."""
    at_minimum = pricing.estimate_at_minimum(run.settings, run.plan)
    return {"cost_at_minimum": at_minimum.to_dict()} if at_minimum else {}


def _config(run: offline.Run) -> dict[str, Any]:
    values, secret_keys = run.config
    return {key: _mask(values[key], key in secret_keys) for key in sorted(values)}


def node_files(run: offline.Run) -> dict[str, dict[str, str]]:
    """Each file the nodes boot with, by path: its SHA-256 (`node_files`) and its text
    (`node_file_text`), rendered with placeholder secrets so that two plans compare equal
    unless a file really changed. The user-data input itself is a secret and masked: this
    is how a diff sees that every node will be replaced, and shows the change line by line."""
    if run.settings.on_kubernetes:
        texts = kubernetes.manifest_texts(run.plan, run.settings)
    else:
        node = render.node(run.plan, run.settings, render.placeholder_secrets(run.plan))
        texts = {f.path: f.content for f in node.files}
    return {
        "node_files": {path: hashlib.sha256(t.encode()).hexdigest() for path, t in texts.items()},
        "node_file_text": texts,
    }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 48 else text[:45] + "..."


def _edge_text(e: capacity.EdgePlan) -> str:
    """Nginx's per-client limits on each node, in one line."""
    conns = f"{e.client_concurrency:,} in flight" if e.client_concurrency else "no in-flight limit"
    rate = "no rate limit"
    if e.client_rate:
        rate = f"{e.client_rate:,} req/s (burst {e.client_burst:,})"
    exempt = f"; exempt: {', '.join(e.exempt_cidrs)}" if e.exempt_cidrs else ""
    demo = "; demo /db /cache /io: private network only" if e.private_demo_routes else ""
    return f"{conns}, {rate} per node, 429 beyond{exempt}{demo}"


def _print_throughput(plan: capacity.CapacityPlan) -> None:
    out = sys.stdout.write
    t = plan.throughput
    out(f"\nThroughput: target {t.target_rps:,} req/s ({plan.target_concurrency:,} concurrent / "
        f"{t.latency_ms:,} ms in flight), {t.cpu_ms:g} ms CPU each\n")  # fmt: skip
    out(f"  per node         {t.node_rps_ceiling:,} req/s by CPU ({plan.vcpus} vCPU at "
        f"{t.cpu_utilisation_ceiling:.0%}), {t.node_slot_rps:,} req/s by slots\n")  # fmt: skip
    fixes = "the pool's maximum" if plan.autoscale else "nodeCount"
    spare = f"{fixes} fixes it" if t.binding == "nodeCount" else "+ 1 spare"
    out(f"  nodes            {plan.nodes}: {t.nodes_for_slots} for slots, {t.nodes_for_cpu} for "
        f"CPU, {spare}; binding: {t.binding}\n")  # fmt: skip
    out(f"  fleet            {t.fleet_rps_one_node_down:,} req/s with one node down\n")
    if t.lb_units_for:
        each = ", ".join(f"{limit} {size}" for limit, size in t.lb_units_for.items())
        out(f"  load balancer    {plan.load_balancer.size} (each limit alone: {each}); "
            f"{t.new_tls_per_second:,} new TLS connections/s\n")  # fmt: skip
    out(f"  postgresql       {t.database_qps:,} queries/s of {t.database_qps_ceiling:,}\n")
    out(f"  valkey           {t.cache_ops_per_second:,} commands/s of {t.cache_ops_ceiling:,}\n")


def _print_rollout(plan: capacity.CapacityPlan) -> None:
    """What a change that replaces nodes (any node file, the image) will do."""
    out = sys.stdout.write
    r = plan.rollout
    out(f"\nRollout: {r.describe()}\n")
    if not r.gated:
        return
    chosen = "chosen by the plan" if r.batch_size_default else "rollout.batchSize"
    if r.by_pool and plan.autoscale is not None:
        chosen = "the whole pool at once, at worst: the cloud does not say"
    out(f"  batch            {r.batch_size} ({chosen}); {r.serving_during_batch} nodes serve "
        f"while a batch is replaced, {r.peak_nodes} are up at the peak\n")  # fmt: skip
    if r.by_pool and plan.autoscale is not None:
        out(f"  gate             the pool's cooldown ({plan.autoscale.cooldown_minutes} min, at "
            f"least rollout.healthTimeoutSeconds {r.health_timeout_s} s) before an old member "
            "goes; no gate per member\n")  # fmt: skip
    else:
        out(f"  gate             {r.healthy_in_a_row} healthy answers in a row from the load "
            f"balancer, every {r.poll_interval_s} s, within {r.health_timeout_s} s\n")  # fmt: skip
    out(f"  drain            {r.detect_s} s failing health checks, then {r.finish_s} s to "
        f"finish requests (the workload needs {r.finish_needed_s} s)\n")  # fmt: skip
    out(f"  database         {plan.database.rollout_connections:,} clients at the peak of "
        f"{plan.database.pool_max_clients:,}; valkey {plan.cache.rollout_client_connections:,} "
        f"of {plan.cache.max_clients:,}\n")  # fmt: skip


def _print_pods(plan: capacity.CapacityPlan, pods: PodPlan) -> None:
    """The node pool cut into pods, and what each pod keeps of the node's tuning."""
    out = sys.stdout.write
    g = pods.gunicorn
    out(f"  kubernetes       {pods.kubernetes_version}: {plan.nodes} pool nodes x {pods.per_node} "
        f"pods of {pods.vcpus} vCPU / {pods.memory_mib:,} MiB ({pods.reserved_vcpus} vCPU, "
        f"{pods.reserved_memory_mib:,} MiB of each node kept for the cluster)\n")  # fmt: skip
    out(f"  pod              {g.workers} workers x {g.worker_connections:,} = "
        f"{pods.concurrency:,} connections, {pods.load:,} each with {pods.needed} pods "
        f"serving\n")  # fmt: skip
    out(f"  replicas         {pods.minimum} to {pods.maximum} (autoscaler above "
        f"{pods.hpa_cpu_percent}% CPU); {pods.needed} hold the target, disruption budget "
        f"min {pods.needed}\n")  # fmt: skip
    out(f"  pod kernel       sysctls set: {', '.join(pods.sysctls)}\n")
    out(f"                   at the kernel's defaults (unsafe or not namespaced): "
        f"{', '.join(pods.kernel_defaults)}\n")  # fmt: skip
    out(f"  pod backlog      {g.backlog:,} asked, {pods.backlog:,} held (somaxconn "
        f"{pods.somaxconn:,}, the kernel default in the pod's network namespace)\n")  # fmt: skip
    out(f"  descriptors      the container runtime's limit, raised to its hard limit at start; "
        f"Gunicorn refuses to start below {g.limit_nofile:,}\n")  # fmt: skip


def _print_pod_rollout(plan: capacity.CapacityPlan, pods: PodPlan) -> None:
    """What a new image or config does: a rolling update of the Deployment."""
    out = sys.stdout.write
    out(f"\nRollout: rolling update of {pods.minimum}+ pods, {pods.max_unavailable} at a time, no "
        f"surge; {pods.needed} always serve\n")  # fmt: skip
    out(f"  stop             preStop {pods.pre_stop_s} s while the gateway stops sending, then "
        f"Gunicorn finishes requests within {pods.gunicorn.graceful_timeout_s} s; killed after "
        f"{pods.termination_grace_s} s\n")  # fmt: skip
    out(f"  database         {plan.database.rollout_connections:,} clients at a node pool "
        f"upgrade's peak (one surge node) of {plan.database.pool_max_clients:,}; valkey "
        f"{plan.cache.rollout_client_connections:,} of {plan.cache.max_clients:,}\n")  # fmt: skip


def _print_pool(plan: capacity.CapacityPlan, pool: AutoscalePlan) -> None:
    """A fleet that scales itself: its bounds, what each holds, what it scales on."""
    out = sys.stdout.write
    kind = "node pool (cluster autoscaler)" if plan.pods else "Droplet autoscale pool"
    memory = f", memory {pool.memory_target:g}" if pool.memory_target else ""
    out(f"  autoscale        {kind}: {pool.min_nodes}-{pool.max_nodes} nodes, CPU target "
        f"{pool.cpu_target:g}{memory}, cooldown {pool.cooldown_minutes} min\n")  # fmt: skip
    out(f"  pool bounds      minimum holds the baseline {pool.baseline_concurrency:,} with one "
        f"node down; maximum the peak {pool.peak_concurrency:,}, where every budget below is "
        "checked\n")  # fmt: skip


def print_plan(doc: dict[str, Any], plan: capacity.CapacityPlan) -> None:
    out = sys.stdout.write
    out(f"pyscale plan: stack {doc['stack']} ({doc['cloud']}, {doc['region']}, "
        f"{doc['environment']})\n\n")  # fmt: skip
    rows = doc["resources"]
    out(f"Resources to create ({len(rows)}):\n")
    width = max(len(r["type"]) for r in rows)
    for r in rows:
        keys = " ".join(
            f"{k}={_short(v)}"
            for k, v in r["inputs"].items()
            if k in KEY_INPUTS and v not in (None, "")
        )
        lock = " [protected]" if r["protect"] else ""
        out(f"  {r['type']:<{width}}  {r['name']}{lock}  {keys}\n")

    g, n, k, db, c, lb = (
        plan.gunicorn,
        plan.nginx,
        plan.kernel,
        plan.database,
        plan.cache,
        plan.load_balancer,
    )
    all_checks = capacity.checks(plan)
    out(f"\nCapacity: target {plan.target_concurrency:,} concurrent requests\n")
    if plan.autoscale is not None:
        _print_pool(plan, plan.autoscale)
    out(
        f"  nodes            {plan.nodes} x {plan.per_node_concurrency:,} "
        f"(holds {plan.capacity_one_node_down:,} with one node down)\n"
    )
    out(
        f"  gunicorn         {g.workers} {g.server} workers ({g.worker_class}) x "
        f"{g.worker_connections:,} connections, backlog {g.backlog:,}, "
        f"LimitNOFILE {g.limit_nofile:,}\n"
    )
    if plan.pods is not None:
        _print_pods(plan, plan.pods)
    else:
        out(
            f"  nginx            {n.worker_processes} workers x {n.worker_connections:,} "
            f"connections, rlimit {n.worker_rlimit_nofile:,}, upstream keepalive "
            f"{n.upstream_keepalive:,}\n"
        )
        out(
            f"  kernel           somaxconn {k.somaxconn:,}, syn backlog "
            f"{k.tcp_max_syn_backlog:,}, nofile {k.nofile:,}, file-max {k.file_max:,}\n"
        )
    out(
        f"  postgresql       {db.size}: {db.max_connections} connections, PgBouncer {db.pool_mode} "
        f"pool {db.pool_size}, {db.app_connections} app clients, {db.read_replicas} read replicas\n"
    )
    out(
        f"  valkey           {c.size}: {c.client_connections:,} clients of maxclients "
        f"{c.max_clients:,}, eviction {c.runs_with}"
        f"{'' if c.eviction_policy else ' (the engine default, not settable: keys carry TTLs)'}\n"
    )
    lb_text = (
        f"{lb.size} ({lb.max_connections:,} connections, {lb.requests_per_second:,} requests/s, "
        f"{lb.new_tls_per_second:,} new TLS connections/s)"
        if lb.enabled
        else "none (single node)"
    )
    out(f"  load balancer    {lb_text}\n")
    if plan.pods is None:
        out(f"  per client       {_edge_text(plan.edge)}\n")
    else:
        out("  per client       no per-client limits (the gateway's Nginx sets none)\n")
    out(f"  checks           {sum(ch.ok for ch in all_checks)}/{len(all_checks)} links hold\n")
    _print_throughput(plan)
    if plan.pods is None:
        _print_rollout(plan)
    else:
        _print_pod_rollout(plan, plan.pods)

    cost = doc["cost"]
    out(f"\nMonthly cost estimate ({cost['currency']}, list prices as of {cost['as_of']}):\n")
    for line in cost["lines"]:
        label = f"{line['item']:<28} {line['size']:<18} x{line['quantity']:<3}"
        out(f"  {label} {line['monthly']:>10,.2f}\n")
    out(f"  {'total':<52} {cost['total']:>10,.2f}\n")
    if "cost_at_minimum" in doc and plan.autoscale is not None:
        label = f"total at the pool's minimum ({plan.autoscale.min_nodes} nodes)"
        out(f"  {label:<52} {doc['cost_at_minimum']['total']:>10,.2f}\n")

    needed = doc["prerequisites"]
    out(f"\nPrerequisites ({len(needed)}), what the account needs; pyscale cannot check them:\n")
    for i, p in enumerate(needed, 1):
        out(f"  {i}. {p['what']} ({p['when']})\n")
        out(f"     why: {p['why']}\n")
        out(f"     how: {p['how']}\n")

    violations = doc["policy"]
    out(f"\nPolicy: {len(violations)} violation(s)\n")
    for v in violations:
        out(f"  [{v['enforcement']}] {v['policy']}: {v['resource']}: {v['message']}\n")
