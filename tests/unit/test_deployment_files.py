"""The deployment files, checked without a container runtime or a cluster (none runs here):
docker-compose.yml against the Compose Specification's schema, every Kubernetes manifest
against Kubernetes' own schemas (kubernetes-validate, strict: an unknown field fails), the
Grafana dashboard's queries against the metrics the code defines, the Dockerfile's and the
entry point's files and commands against the project, and the Prometheus configuration
against the Compose services it scrapes. Each check is also shown failing on a broken copy.

tests/data/compose-spec.json is schema/compose-spec.json of github.com/compose-spec/
compose-spec at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (2026-06-23, Apache-2.0).
check-jsonschema ships the same file, but only in releases that need jsonschema 4.18 or
later, and Rasa 3.6.21 pins jsonschema below 4.18."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils as kubernetes_schemas

from teranga.runtime import model_path
from teranga.settings import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = PROJECT_ROOT / "tests" / "data" / "compose-spec.json"
KUBERNETES_DIR = PROJECT_ROOT / "deploy" / "kubernetes"
# kubernetes-validate 1.28.3 is the last release that works with jsonschema < 4.18 (Rasa's
# pin); every API these manifests use is GA and unchanged since.
KUBERNETES_VERSION = "1.28"
NOT_A_MANIFEST = {"kustomization.yaml"}
DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "teranga-dashboard.json"
PROMETHEUS_CONFIG = PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENTRYPOINT = PROJECT_ROOT / "deploy" / "docker" / "entrypoint.sh"
SHIPPED_NGINX = PROJECT_ROOT / "deploy" / "nginx" / "teranga.conf"
COMPOSE_NGINX = PROJECT_ROOT / "deploy" / "compose" / "nginx.conf"
PROCESSES = {"rasa": 5005, "actions": 5055, "desk": 5010}

# The metrics the dashboard may query, as Prometheus names its samples, while
# teranga/observability/metrics.py is not there to be read (issue 19's list).
METRICS_OF_ISSUE_19 = {
    "teranga_messages_received_total", "teranga_deliveries_total", "teranga_handoffs_total",
    "teranga_handoff_queue_depth",
    *(f"{histogram}_{suffix}" for histogram in (
        "teranga_reply_seconds", "teranga_intake_lag_seconds", "teranga_handoff_wait_seconds",
        "teranga_action_seconds") for suffix in ("bucket", "sum", "count")),
}
# prometheus_client's process collector, on every process.
PROCESS_METRICS = {"process_resident_memory_bytes", "process_cpu_seconds_total"}
SAMPLE_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum",
                   "_count"), "summary": ("", "_sum", "_count"), "info": ("_info",)}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text("utf-8"))


def compose_errors(document: dict) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification():
    assert compose_errors(compose()) == []


def test_a_compose_file_with_a_misspelt_key_fails_the_schema():
    broken = compose()
    broken["services"]["nginx"]["healtcheck"] = broken["services"]["nginx"].pop("depends_on")
    assert compose_errors(broken)


def services_running(document: dict, process: str) -> list[str]:
    return [name for name, service in document["services"].items()
            if service.get("command") == [process]]


def test_the_compose_stack_has_two_of_each_process_two_redis_replicas_and_three_sentinels():
    document = compose()
    assert {process: len(services_running(document, process)) for process in PROCESSES} == \
        {"rasa": 2, "actions": 2, "desk": 2}
    redis_roles = [service["command"][-1] for service in document["services"].values()
                   if service.get("command", [""])[0] == "sh"]
    assert sorted(redis_roles) == ["master", "replica", "replica", "sentinel", "sentinel",
                                   "sentinel"]


def test_every_compose_dependency_and_mounted_file_exists():
    document = compose()
    for name, service in document["services"].items():
        assert set(service.get("depends_on", {})) <= set(document["services"]), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), f"{name}: {source}"
    desks = services_running(document, "desk")
    assert len({document["services"][desk]["environment"]["TERANGA_DESK_CONSUMER"]
                for desk in desks}) == len(desks), "each desk needs its own consumer name"


def locations(nginx_config: str) -> set[str]:
    return set(re.findall(r"^\s*location\s+([^{]+?)\s*\{", nginx_config, re.MULTILINE))


def upstream_servers(nginx_config: str) -> dict[str, list[str]]:
    blocks = re.findall(r"upstream\s+(\w+)\s*\{(.*?)\}", nginx_config, re.DOTALL)
    return {name: re.findall(r"^\s*server\s+(\S+)", body, re.MULTILINE) for name, body in blocks}


def test_the_compose_load_balancer_mirrors_the_shipped_nginx_config():
    shipped, variant = SHIPPED_NGINX.read_text("utf-8"), COMPOSE_NGINX.read_text("utf-8")
    assert locations(shipped) <= locations(variant)
    assert set(upstream_servers(shipped)) <= set(upstream_servers(variant))
    pools = [sorted(services_running(compose(), process)) for process in ("rasa", "desk")]
    for pool, servers in upstream_servers(variant).items():
        assert sorted(server.split(":")[0] for server in servers) in pools, pool


def kubernetes_resources() -> list[tuple[str, dict]]:
    return [(path.name, resource)
            for path in sorted(KUBERNETES_DIR.glob("*.yaml")) if path.name not in NOT_A_MANIFEST
            for resource in yaml.safe_load_all(path.read_text("utf-8")) if resource]


def kubernetes_error(resource: dict) -> str | None:
    try:
        kubernetes_schemas.validate(resource, KUBERNETES_VERSION, strict=True)
    except (kubernetes_schemas.ValidationError, kubernetes_schemas.SchemaNotFoundError) as error:
        return str(getattr(error, "message", error))
    return None


@pytest.mark.parametrize("file_name, resource", kubernetes_resources(),
                         ids=lambda value: value if isinstance(value, str) else value["kind"])
def test_each_kubernetes_manifest_follows_the_kubernetes_schema(file_name, resource):
    assert kubernetes_error(resource) is None


def test_a_manifest_with_an_unknown_field_or_kind_fails_the_kubernetes_schema():
    deployment = next(resource for _, resource in kubernetes_resources()
                      if resource["kind"] == "Deployment")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["replica"] = misspelt["spec"].pop("replicas")
    unknown_kind = {**copy.deepcopy(deployment), "kind": "Deploymnet"}
    assert kubernetes_error(misspelt) and kubernetes_error(unknown_kind)


def test_kustomization_lists_every_manifest_but_the_secret_template():
    listed = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text("utf-8"))
    present = {path.name for path in KUBERNETES_DIR.glob("*.yaml")} - NOT_A_MANIFEST
    assert set(listed["resources"]) == present - {"secret.template.yaml"}


def workloads() -> list[dict]:
    return [resource for _, resource in kubernetes_resources()
            if resource["kind"] in ("Deployment", "StatefulSet")]


def test_every_process_runs_on_kubernetes_with_probes_resources_and_autoscaling():
    kinds = {resource["kind"]: set() for _, resource in kubernetes_resources()}
    for _, resource in kubernetes_resources():
        kinds[resource["kind"]].add(resource["metadata"]["name"])
    names = {workload["metadata"]["name"] for workload in workloads()}
    assert names == {f"teranga-{process}" for process in PROCESSES}
    assert names <= kinds["HorizontalPodAutoscaler"] and names <= kinds["PodDisruptionBudget"]
    for workload in workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["resources"]["limits"]["memory"]
        assert container["args"][0] in PROCESSES
        assert container["ports"][0]["containerPort"] == PROCESSES[container["args"][0]]


def test_the_ingresses_expose_only_the_webhooks_the_web_chat_and_the_desk():
    exposed = {(rule["host"], path["path"], path["backend"]["service"]["name"])
               for _, resource in kubernetes_resources() if resource["kind"] == "Ingress"
               for rule in resource["spec"]["rules"] for path in rule["http"]["paths"]}
    assert exposed == {("bot.example.com", "/webhooks/", "teranga-rasa"),
                       ("bot.example.com", "/socket.io/", "teranga-rasa-sockets"),
                       ("desk.example.com", "/", "teranga-desk")}


def sample_names(metric) -> set[str]:
    """The sample names Prometheus sees for one prometheus_client metric."""
    return {family.name + suffix for family in metric.describe()
            for suffix in SAMPLE_SUFFIXES[family.type]}


def defined_metrics() -> set[str]:
    """The metrics the code defines, read from teranga/observability/metrics.py when it
    exists, else the list of issue 19."""
    try:
        module = importlib.import_module("teranga.observability.metrics")
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("teranga.observability"):
            raise
        return METRICS_OF_ISSUE_19 | PROCESS_METRICS
    from prometheus_client.metrics import MetricWrapperBase

    return PROCESS_METRICS.union(*(sample_names(value) for value in vars(module).values()
                                   if isinstance(value, MetricWrapperBase)))


def queried_metrics(expression: str) -> set[str]:
    return set(re.findall(r"\b(?:teranga|process)_[a-z0-9_]+\b", expression))


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    return [target["expr"] for panel in dashboard["panels"] if panel["type"] != "row"
            for target in panel["targets"]]


def test_the_dashboard_queries_only_metrics_the_code_defines():
    expressions = dashboard_expressions()
    assert all(queried_metrics(expression) for expression in expressions)
    unknown = set().union(*map(queried_metrics, expressions)) - defined_metrics()
    assert unknown == set()


def test_a_misspelt_metric_in_a_query_is_caught():
    expression = "sum(rate(teranga_message_received_total[5m]))"
    assert queried_metrics(expression) - defined_metrics() == {"teranga_message_received_total"}


def test_prometheus_scrapes_every_teranga_process_of_the_compose_stack():
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text("utf-8"))
    scraped = {target for job in config["scrape_configs"]
               for static in job["static_configs"] for target in static["targets"]}
    document = compose()
    expected = {f"{name}:{port}" for process, port in PROCESSES.items()
                for name in services_running(document, process)}
    assert scraped == expected
    assert len({job["job_name"] for job in config["scrape_configs"]}) == len(PROCESSES)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text("utf-8").replace("\\\n", " ")
    return [(line.split()[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_dockerfile_copies_and_runs_files_that_exist():
    instructions = dockerfile_instructions()
    for instruction, arguments in instructions:
        if instruction == "COPY" and "--from=" not in arguments:
            *sources, _target = arguments.split()
            assert all((PROJECT_ROOT / source).exists() for source in sources), arguments
    for instruction, arguments in instructions:
        if instruction in ("ENTRYPOINT", "HEALTHCHECK"):
            paths = re.findall(r"/app/(\S+?)\"", arguments)
            assert paths and all((PROJECT_ROOT / path).exists() for path in paths), arguments
    assert os.access(ENTRYPOINT, os.X_OK)
    ignored = (PROJECT_ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".venv", ".teranga", ".git", ".env"} <= set(ignored)


def test_the_image_trains_with_the_project_command():
    runs = [arguments for instruction, arguments in dockerfile_instructions()
            if instruction == "RUN"]
    assert "teranga train && teranga kb build" in runs
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text("utf-8")
    assert 'teranga = "teranga.cli:main"' in pyproject


@pytest.fixture()
def recording_python(tmp_path) -> Path:
    """A `python` that records the server command the entry point ends on and runs any
    other `python` (the entry point's own Python code) for real."""
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text(f"""#!/bin/sh
if [ "$1" = "-m" ]; then
    printf '%s\\n' "$*" > {tmp_path}/command
    env > {tmp_path}/environment
    exit 0
fi
exec {shlex.quote(sys.executable)} "$@"
""")
    stub.chmod(0o755)
    return stub


def run_entrypoint(process: str, python: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{python.parent}:{os.environ['PATH']}", "TMPDIR": str(python.parent),
           **variables}
    return subprocess.run([str(ENTRYPOINT), process], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_entrypoint_starts_each_process_with_a_module_that_exists(recording_python):
    secrets = {"REDIS_URL": "redis://:s3cret@teranga/2", "TERANGA_API_TOKEN": "x" * 32,
               "TERANGA_ACTIONS_URL": "http://actions:5055",
               "TERANGA_RASA_URL": "http://rasa:5005"}
    recorded = recording_python.parent.parent
    for process in PROCESSES:
        result = run_entrypoint(process, recording_python, **secrets)
        assert result.returncode == 0, result.stderr
        words = (recorded / "command").read_text().split()
        assert importlib.util.find_spec(words[1]) is not None, words
        assert str(PROCESSES[process]) in words
    run_entrypoint("rasa", recording_python, **secrets)
    words = (recorded / "command").read_text().split()
    assert words[words.index("--model") + 1] == str(model_path(Path("models")))
    environment = dict(line.split("=", 1) for line in
                       (recorded / "environment").read_text().splitlines() if "=" in line)
    assert environment["TERANGA_ACTION_ENDPOINT"] == "http://actions:5055/webhook"
    assert (environment["TERANGA_REDIS_PASSWORD"], environment["TERANGA_REDIS_DB"]) == \
        ("s3cret", "2")


def test_the_entrypoint_refuses_to_start_without_its_secrets(recording_python):
    for process in PROCESSES:
        result = run_entrypoint(process, recording_python)
        assert result.returncode != 0 and "is not set" in result.stderr
