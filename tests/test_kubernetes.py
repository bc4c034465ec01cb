"""The container image and the Kubernetes manifests (deploy/kubernetes/), checked without a cluster or a Docker
engine: every manifest against the Kubernetes API schema of a pinned version, strictly; the probes, ports,
command and environment against the app; the Dockerfile's steps against the README's commands."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from explorer.training import slots

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES = "1.35.0"  # the API version the manifests are written for (kubernetes-validate's bundled schemas)
HEALTH = "/_stcore/health"  # Streamlit's health endpoint, which the browser tests' server fixture waits on too


def _documents() -> dict[str, dict]:
    docs = {}
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[doc["kind"]] = doc
    return docs


def _readme_commands() -> tuple[str, str]:
    """(install, launch) from the README's "Run it" command."""
    text = (ROOT / "README.md").read_text()
    line = re.search(r"```bash\n(python -m pip install -r requirements\.txt && streamlit run app\.py)\n```", text)
    assert line, "the README's run command"
    install, launch = line.group(1).split(" && ")
    return install, launch


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_manifest_validates_strictly_against_the_api_schema(path: Path) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(_documents()["Deployment"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": HEALTH}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_the_manifests_cover_the_deployment_the_class_needs() -> None:
    assert set(_documents()) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"}


def test_probes_ports_command_and_environment_agree_with_the_app() -> None:
    docs = _documents()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["command"]
    _, launch = _readme_commands()
    assert " ".join(args[:3]) == launch  # the README's launch command, with server flags after it
    port = int(args[args.index("--server.port") + 1])
    assert args[args.index("--server.address") + 1] == "0.0.0.0"
    (named,) = container["ports"]
    assert named["containerPort"] == port
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        assert probe["httpGet"]["path"] == HEALTH and probe["httpGet"]["port"] == named["name"]
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == named["name"]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        selector = docs[kind]["spec"]["selector"]
        assert (selector.get("matchLabels") or selector).items() <= labels.items()
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": docs["Service"]["metadata"]["name"], "port": {"name": "http"}}
    # the training slots follow the CPU limit: the variable the app reads, from the limit the pod has
    (env,) = container["env"]
    assert env["name"] == "EXPLORER_CPU_LIMIT" and env["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"
    assert container["resources"]["limits"]["cpu"] == container["resources"]["requests"]["cpu"] == "2"
    # a rolling update: the pod leaves the Service (preStop) well within its grace period
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert 0 < pause < pod["terminationGracePeriodSeconds"]


def test_the_app_sizes_its_training_slots_from_the_cpu_limit(monkeypatch) -> None:
    monkeypatch.delenv("EXPLORER_MAX_TRAINING", raising=False)
    monkeypatch.setenv("EXPLORER_CPU_LIMIT", "4")
    assert slots.default_capacity() == 3
    monkeypatch.setenv("EXPLORER_CPU_LIMIT", "1")
    assert slots.default_capacity() == 1
    monkeypatch.setenv("EXPLORER_MAX_TRAINING", "5")
    assert slots.default_capacity() == 5


def test_the_ingress_is_sticky_and_keeps_websockets_open() -> None:
    notes = _documents()["Ingress"]["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "affinity"] == "cookie" and notes[prefix + "affinity-mode"] == "persistent"
    assert int(notes[prefix + "proxy-read-timeout"]) >= 3600 and int(notes[prefix + "proxy-send-timeout"]) >= 3600
    hpa = _documents()["HorizontalPodAutoscaler"]["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu" and hpa["minReplicas"] >= 2


def test_the_dockerfile_runs_the_readmes_commands_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    install, launch = _readme_commands()
    instructions = [line.strip() for line in re.sub(r"\\\n\s*", " ", text).splitlines() if line and line[0] != "#"]
    assert f"RUN {install}" in instructions
    (cmd,) = [line for line in instructions if line.startswith("CMD ")]
    args = yaml.safe_load(cmd[4:])  # the exec form is a JSON array
    deployment = _documents()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert args == deployment["command"] and " ".join(args[:3]) == launch
    assert any(line.startswith("USER ") and line != "USER root" for line in instructions)
    (check,) = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert f"127.0.0.1:{args[args.index('--server.port') + 1]}{HEALTH}" in check
    assert "FROM python:3.11-slim" in text and shlex.split(install)[-1] == "requirements.txt"
