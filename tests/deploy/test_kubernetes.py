"""The Kubernetes manifests (deploy/kubernetes/): valid against the Kubernetes schemas
that the registry package kubernetes-validate ships (strict: an unknown field is an
error), and the same profile as the process-level scale test — variables, commands,
ports and health endpoints — so the two cannot drift apart."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml

from bench.cluster import (
    ACTIONS_HEALTH,
    ACTIONS_WEBHOOK,
    PRODUCTION_ENDPOINTS,
    RASA_HEALTH,
    profile_env,
)
from bench.stack import LOGGING_CONFIG, MODEL, PROJECT_ROOT

KUBERNETES_VERSION = "1.30.0"
VALIDATOR = PROJECT_ROOT / ".venv-deploy" / "bin" / "kubernetes-validate"
MANIFESTS = sorted((PROJECT_ROOT / "deploy" / "kubernetes").glob("*.yaml"))
# What only the test processes need: the image sets its own path, and the cluster
# takes staff accounts from the Secret rather than a file.
TEST_ONLY = {"PYTHONPATH", "STAFF_ACCOUNTS_FILE"}
# Secrets: only ever in the Secret, never in a ConfigMap or a manifest's env.
SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|DATABASE_URL|TRACKER_STORE_URL|ACCOUNTS)$")


def documents() -> List[Dict[str, Any]]:
    found = []
    for path in MANIFESTS:
        found += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return found


def one(kind: str, name: str) -> Dict[str, Any]:
    [found] = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def container(deployment: str) -> Dict[str, Any]:
    [only] = one("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return only


def provided(deployment: str) -> Set[str]:
    """Variable names a Deployment's container gets (env, ConfigMaps, Secrets)."""
    spec = container(deployment)
    names = {e["name"] for e in spec.get("env", [])}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(one("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            names |= set(one("Secret", source["secretRef"]["name"])["stringData"])
    return names


def validate(*paths: Path) -> subprocess.CompletedProcess:
    if not VALIDATOR.exists():
        pytest.fail("kubernetes-validate is missing: run `make test-deploy`")
    return subprocess.run([str(VALIDATOR), "-k", KUBERNETES_VERSION, "--strict",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_every_manifest_is_valid_against_the_schemas() -> None:
    result = validate(*MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = (result.stdout + result.stderr).count("passed for resource")
    assert passed == len(documents()) >= 11


def test_the_validator_refuses_an_unknown_field(tmp_path: Path) -> None:
    """The check can fail: a misspelt field is an error, not ignored."""
    deployment = one("Deployment", "shop-rasa")
    deployment["spec"]["replicass"] = deployment["spec"].pop("replicas")
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    result = validate(broken)
    assert result.returncode != 0 and "replicass" in result.stdout + result.stderr


def test_both_servers_get_every_variable_the_scale_test_sets() -> None:
    wanted = set(profile_env("db", "trackers", "http://actions/webhook", 1)) - TEST_ONLY
    for deployment in ("shop-rasa", "shop-actions"):
        missing = wanted - provided(deployment)
        assert not missing, (deployment, missing)


def test_every_variable_the_endpoints_file_reads_is_provided() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", PRODUCTION_ENDPOINTS.read_text(encoding="utf-8")))
    assert used and used <= provided("shop-rasa"), used - provided("shop-rasa")


def test_secrets_come_from_the_secret_only() -> None:
    config = one("ConfigMap", "shop-config")["data"]
    assert not [k for k in config if SECRET_NAME.search(k)]
    secret = one("Secret", "shop-secrets")["stringData"]
    # The production requirements (README, Security): they must be set.
    assert {"STAFF_TOKEN_SECRET", "RASA_JWT_SECRET", "REST_TOKEN"} <= set(secret)
    assert all("CHANGE-ME" in value for value in secret.values())  # placeholders only
    for deployment in ("shop-rasa", "shop-actions"):
        assert not container(deployment).get("env")  # nothing inline, secret or not
    assert config["APP_ENV"] == "production"


def test_same_commands_ports_and_health_endpoints_as_the_scale_test() -> None:
    rasa, actions = container("shop-rasa"), container("shop-actions")
    command = shlex.split(" ".join(rasa["command"][2:] + rasa["args"]))
    relative = lambda path: str(path.relative_to(PROJECT_ROOT))  # noqa: E731
    for flag, value in (("--endpoints", PRODUCTION_ENDPOINTS.name),
                        ("--credentials", "credentials.yml"),
                        ("--model", relative(MODEL)),
                        ("--logging-config-file", relative(LOGGING_CONFIG))):
        assert command[command.index(flag) + 1] == value, flag
    assert "bot.serve" in command and "api-args" in " ".join(rasa["args"])
    assert actions["args"][:2] == ["run", "actions"]
    assert actions["args"][actions["args"].index("--logging-config-file") + 1] == \
        relative(LOGGING_CONFIG)

    rasa_port = rasa["ports"][0]["containerPort"]
    actions_port = actions["ports"][0]["containerPort"]
    assert rasa_port == int(command[command.index("--port") + 1])
    assert actions_port == int(actions["args"][actions["args"].index("--port") + 1])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert rasa[probe]["httpGet"]["path"] == RASA_HEALTH
    for probe in ("readinessProbe", "livenessProbe"):
        assert actions[probe]["httpGet"]["path"] == ACTIONS_HEALTH

    config = one("ConfigMap", "shop-config")["data"]
    assert config["ACTION_SERVER_URL"] == f"http://shop-actions:{actions_port}{ACTIONS_WEBHOOK}"
    assert int(config["RASA_PORT"]) == rasa_port and int(config["ACTIONS_PORT"]) == actions_port
    assert one("Service", "shop-rasa")["spec"]["ports"][0]["port"] == rasa_port
    assert one("Service", "shop-actions")["spec"]["ports"][0]["port"] == actions_port


def test_socketio_sticks_to_a_replica_and_a_replica_may_always_go() -> None:
    ingress = one("Ingress", "shop-assistant")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert {"/socket.io", "/webhooks"} <= paths
    # Rasa's HTTP API stays inside the cluster (as nginx's api_access does).
    assert not paths & {"/", "/model", "/conversations", "/status"}
    for name in ("shop-rasa", "shop-actions"):
        deployment = one("Deployment", name)
        budget = one("PodDisruptionBudget", name)
        assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
        assert budget["spec"]["selector"] == deployment["spec"]["selector"]
        resources = container(name)["resources"]
        assert resources["requests"]["memory"] and resources["limits"]["memory"]
