"""The deployment's configuration: Prometheus rules and their unit tests, Alertmanager, the
Grafana provisioning and dashboard, docker-compose.yml and the Dockerfile.

promtool (Debian package ``prometheus``) checks the rules and runs their unit tests; amtool
(``prometheus-alertmanager``) checks the Alertmanager configuration when it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting.metrics import Metrics
from tests.promql_sources import (
    DASHBOARDS,
    DEPLOY,
    REPO,
    RULES,
    dashboard_expressions,
    dashboard_panels,
    rule_expressions,
)

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted(RULES.glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
DASHBOARD_FILES = sorted(DASHBOARDS.glob("*.json"))
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
COMPOSE = REPO / "docker-compose.yml"
WORKERS = ("worker-1", "worker-2")
SEVERITIES = {"critical", "warning", "info"}
RECORDING_NAME = re.compile(r"^[a-z][a-z0-9_]*:slamon_[a-z0-9_]+:[a-z0-9_]+$")
METRIC_NAME = re.compile(r"\bslamon_[a-z0-9_]+\b")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules() -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES for group in load_yaml(path)["groups"] for rule in group["rules"]]


def alerting_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "record" in rule]


def promtool() -> str:
    """promtool's path; without it the rule tests fail (they must not pass unchecked)."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install it with `apt-get install prometheus` (Debian/Ubuntu)")
    return path


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)} failed:\n{result.stdout}\n{result.stderr}"


def exported_metrics() -> set[str]:
    """The sample names alerting/metrics.py exports (counters with their ``_total``)."""
    names = set()
    for family in Metrics().registry.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names


# --- Prometheus rules -------------------------------------------------------------------------


def test_the_rule_files_and_their_tests_exist() -> None:
    assert RULE_FILES, f"no rule files in {RULES}"
    assert RULE_TESTS, f"no promtool tests in {PROMETHEUS / 'tests'}"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    assert_ok(run(promtool(), "check", "rules", str(path)))


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_rule_unit_tests(path: Path) -> None:
    # rule_files in a test file are relative to the test file
    assert_ok(run(promtool(), "test", "rules", path.name, cwd=path.parent))


def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook() -> None:
    assert alerting_rules()
    for rule in alerting_rules():
        name = rule["alert"]
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            assert str(annotations.get(key, "")).strip(), f"{name} has no {key}"
        assert "\n" not in annotations["runbook"].strip(), f"{name}: the runbook is one line"


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in alerting_rules()]
    assert len(names) == len(set(names))


def test_recording_rules_are_named_level_metric_operations() -> None:
    names = [rule["record"] for rule in recording_rules()]
    assert names
    assert len(names) == len(set(names))
    for name in names:
        assert RECORDING_NAME.match(name), f"{name} is not level:metric:operations"


def unit_tests() -> list[dict[str, Any]]:
    return [test for path in RULE_TESTS for test in load_yaml(path)["tests"]]


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in unit_tests():
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    for rule in alerting_rules():
        assert rule["alert"] in firing, f"no unit test where {rule['alert']} fires"
        assert rule["alert"] in quiet, f"no unit test where {rule['alert']} stays quiet"


def test_every_recording_rule_has_a_unit_test() -> None:
    tested = {case["expr"].strip() for test in unit_tests() for case in test.get("promql_expr_test", [])}
    for rule in recording_rules():
        assert rule["record"] in tested, f"no promql_expr_test for {rule['record']}"


def test_rules_and_dashboards_use_only_the_exported_metrics() -> None:
    recorded = {rule["record"] for rule in recording_rules()}
    exported = exported_metrics()
    expressions = rule_expressions() + [e for path in DASHBOARD_FILES for e in dashboard_expressions(path)]
    for expr in expressions:
        for name in METRIC_NAME.findall(expr):
            assert name in exported, f"{name} (in {expr!r}) is not exported by alerting/metrics.py"
        for name in re.findall(r"\b[a-z_]+:slamon_[a-z0-9_]+:[a-z0-9_]+\b", expr):
            assert name in recorded, f"{name} (in {expr!r}) is not a recording rule"


def test_rule_expressions_lists_every_rule() -> None:
    exprs = rule_expressions()
    assert len(exprs) == len(rules())
    assert all(expr.strip() for expr in exprs)


# --- Prometheus and Alertmanager configuration ------------------------------------------------


def test_promtool_check_config() -> None:
    # rule_files are relative to prometheus.yml, as in the container (/etc/prometheus)
    assert_ok(run(promtool(), "check", "config", "prometheus.yml", cwd=PROMETHEUS))


def test_prometheus_scrapes_both_workers_and_loads_every_rule_file() -> None:
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {t for c in jobs["slamon-worker"]["static_configs"] for t in c["targets"]}
    assert targets == {f"{worker}:9464" for worker in WORKERS}
    loaded = {path for pattern in config["rule_files"] for path in PROMETHEUS.glob(pattern)}
    assert loaded == set(RULE_FILES)
    alertmanagers = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["alertmanager:9093"]


def test_the_alerts_select_the_worker_job_prometheus_scrapes() -> None:
    for rule in alerting_rules():
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job == "slamon-worker", rule["alert"]


def test_amtool_check_config() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("amtool not installed (apt-get install prometheus-alertmanager)")
    assert_ok(run(amtool, "check-config", str(ALERTMANAGER_CONFIG)))


def test_alertmanager_inhibitions_name_existing_alerts() -> None:
    names = {rule["alert"] for rule in alerting_rules()}
    config = load_yaml(ALERTMANAGER_CONFIG)
    for inhibition in config["inhibit_rules"]:
        for matcher in inhibition["source_matchers"] + inhibition["target_matchers"]:
            value = matcher.split("=", 1)[1].strip().strip("~").strip().strip('"')
            assert set(value.split("|")) <= names, matcher


# --- Grafana ----------------------------------------------------------------------------------


def datasource_uid() -> str:
    datasources = load_yaml(GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    (prometheus,) = [d for d in datasources if d["type"] == "prometheus"]
    assert prometheus["url"] == "http://prometheus:9090"
    return prometheus["uid"]


def test_grafana_datasource_has_a_fixed_uid() -> None:
    assert datasource_uid() == "slamon-prometheus"


def test_grafana_dashboard_provider_reads_the_mounted_dashboards() -> None:
    providers = load_yaml(GRAFANA_PROVISIONING / "dashboards" / "slamon.yml")["providers"]
    (provider,) = providers
    assert provider["type"] == "file"
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./{DASHBOARDS.relative_to(REPO)}:{provider['options']['path']}:ro" in mounts


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_dashboard_targets_have_an_expression_and_the_provisioned_datasource(path: Path) -> None:
    uid = datasource_uid()
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"]
    panels = list(dashboard_panels(dashboard))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel.get("targets"), f"panel {panel['title']!r} has no targets"
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        for target in panel["targets"]:
            assert target.get("expr", "").strip(), f"empty expr in panel {panel['title']!r}"
            assert target["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]


def test_dashboard_has_the_contract_variable() -> None:
    dashboard = json.loads((DASHBOARDS / "sla-monitor.json").read_text(encoding="utf-8"))
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "contract"]
    assert variable["datasource"]["uid"] == datasource_uid()
    assert variable["definition"] == "label_values(slamon_clause_target_ratio, contract)"
    assert variable["query"]["query"] == variable["definition"]


def test_dashboard_expressions_are_ready_for_prometheus() -> None:
    raw = dashboard_expressions(DASHBOARDS / "sla-monitor.json", raw=True)
    ready = dashboard_expressions(DASHBOARDS / "sla-monitor.json")
    assert len(raw) == len(ready) > 0
    assert any("$contract" in expr for expr in raw)
    assert not any("$" in expr for expr in ready)


# --- docker-compose.yml and the image ---------------------------------------------------------


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_compose_has_the_services() -> None:
    services = compose()["services"]
    required = {"kafka", "postgres", *WORKERS, "prometheus", "alertmanager", "grafana"}
    assert required <= set(services)


def test_compose_runs_two_workers_in_one_consumer_group() -> None:
    services = compose()["services"]
    envs = [environment(services[worker]) for worker in WORKERS]
    app_ids = {env.get("SLAMON_APP_ID") for env in envs}
    assert len(app_ids) == 1 and None not in app_ids, app_ids
    for worker, env in zip(WORKERS, envs, strict=True):
        service = services[worker]
        assert service["command"] == ["worker"]
        assert env["SLAMON_BROKER"] == "kafka://kafka:9092"
        assert env["SLAMON_DATABASE"].startswith("postgresql+psycopg2://")
        assert env["SLAMON_DATABASE"].endswith("@postgres:5432/slamon")
        assert env["SLAMON_METRICS_PORT"] == "9464"
        assert env["SLAMON_CONTRACTS"] == "/app/contracts"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in service


def test_compose_takes_secrets_from_the_environment() -> None:
    for name, service in compose()["services"].items():
        for key, value in environment(service).items():
            if any(word in key for word in ("SECRET", "PASSWORD", "TOKEN")):
                assert value.startswith("${"), f"{name}: {key} must come from the environment"


def test_compose_kafka_is_a_single_kraft_node() -> None:
    env = environment(compose()["services"]["kafka"])
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_compose_bind_mounts_exist() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


def test_compose_builds_the_image_from_the_repository_root() -> None:
    build = compose()["services"]["worker-1"]["build"]
    assert build["context"] == "."
    assert (REPO / build["dockerfile"]).is_file()


def test_dockerfile_is_multi_stage_non_root_and_runs_the_worker() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and not users[-1].startswith(("root", "0"))
    assert re.search(r"^EXPOSE 9464$", text, re.M)
    assert 'ENTRYPOINT ["slamon"]' in text
    assert 'CMD ["worker"]' in text


def test_the_runtime_image_can_print_pdf_statements() -> None:
    # WeasyPrint loads Pango at run time; python:3.11-slim has neither it nor a font
    runtime = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").split(" AS runtime", 1)[1]
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert package in runtime, package
