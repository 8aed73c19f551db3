"""Static checks of the Kubernetes manifests in deploy/k8s.

No cluster is reachable here (and `kubectl apply --dry-run=client` needs one for its API
discovery), so these checks cover what the API server or a running pod would reject: kinds,
selectors, probes, the GPU limit, env references to missing keys, untagged images.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import deploy_files as df
import pytest

K8sDocs = list[tuple[Path, dict[str, Any]]]
API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}


def _one(k8s: K8sDocs, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d for _, d in k8s if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _kustomization(k8s: K8sDocs) -> dict[str, Any]:
    return _one(k8s, "Kustomization")


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec = deployment["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_kinds_api_versions_and_kustomization(k8s: K8sDocs) -> None:
    kinds = sorted((path.name, d["kind"]) for path, d in k8s)
    assert kinds == [
        ("configmap.yaml", "ConfigMap"),
        ("kustomization.yaml", "Kustomization"),
        ("namespace.yaml", "Namespace"),
        ("secret.example.yaml", "Secret"),
        ("web-deployment.yaml", "Deployment"),
        ("web-service.yaml", "Service"),
        ("worker-deployment.yaml", "Deployment"),
    ]
    for path, document in k8s:
        assert document["apiVersion"] == API_VERSIONS[document["kind"]], path.name
    kustomization = _kustomization(k8s)
    # every manifest but the secret template is applied by `kubectl apply -k deploy/k8s`
    expected = sorted(p.name for p, d in k8s if d["kind"] not in {"Kustomization", "Secret"})
    assert sorted(kustomization["resources"]) == expected
    assert kustomization["namespace"] == _one(k8s, "Namespace")["metadata"]["name"]
    assert _one(k8s, "Secret")["metadata"]["namespace"] == kustomization["namespace"]


def test_selectors_match_labels_and_the_service(k8s: K8sDocs) -> None:
    deployments = {d["metadata"]["name"]: d for _, d in k8s if d["kind"] == "Deployment"}
    assert set(deployments) == {"dataeff-web", "dataeff-worker"}
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
    web_labels = deployments["dataeff-web"]["spec"]["template"]["metadata"]["labels"]
    worker_labels = deployments["dataeff-worker"]["spec"]["template"]["metadata"]["labels"]
    service = _one(k8s, "Service")
    selector = service["spec"]["selector"]
    assert selector.items() <= web_labels.items()
    assert not selector.items() <= worker_labels.items(), "the Service must not pick workers"
    web = next(c for c in _pod(deployments["dataeff-web"])["containers"] if c["name"] == "web")
    (port,) = service["spec"]["ports"]
    (container_port,) = web["ports"]
    assert port["port"] == container_port["containerPort"] == 9090
    assert port["targetPort"] == container_port["name"]


def test_web_probes_run_the_image_health_check(
    k8s: K8sDocs,
    dockerfile: list[df.Instruction],
) -> None:
    image_check = next(i for i in dockerfile if i.keyword == "HEALTHCHECK").exec_form()
    web = _pod(_one(k8s, "Deployment", "dataeff-web"))["containers"][0]
    assert web["args"] == ["serve", "--host", "0.0.0.0", "--port", "9090"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert web[probe]["exec"]["command"] == image_check, probe
        assert web[probe]["timeoutSeconds"] >= 5, "the script gives up after 4 s"


def test_migrations_run_before_the_web_process(k8s: K8sDocs) -> None:
    pod = _pod(_one(k8s, "Deployment", "dataeff-web"))
    (init,) = pod["initContainers"]
    assert init["args"] == ["db", "upgrade"]
    assert init["image"] == pod["containers"][0]["image"]
    assert init["env"] == pod["containers"][0]["env"]
    assert init["envFrom"] == pod["containers"][0]["envFrom"]


def test_worker_requests_one_gpu_on_gpu_nodes(k8s: K8sDocs) -> None:
    deployment = _one(k8s, "Deployment", "dataeff-worker")
    pod = _pod(deployment)
    (worker,) = pod["containers"]
    assert worker["args"] == ["worker"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"name": "DATAEFF_DEVICE", "value": "cuda"} in worker["env"]
    assert pod["nodeSelector"], "show where GPU pods go"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    # a surge pod would wait for a GPU that the old pod still holds
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0


def test_every_env_reference_points_at_an_existing_key(k8s: K8sDocs) -> None:
    config = _one(k8s, "ConfigMap")
    secret = _one(k8s, "Secret")
    assert secret["type"] == "Opaque" and "data" not in secret
    for _, deployment in ((p, d) for p, d in k8s if d["kind"] == "Deployment"):
        for container in _containers(_pod(deployment)):
            for source in container.get("envFrom", []):
                assert source == {"configMapRef": {"name": config["metadata"]["name"]}}
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    key_ref, keys = ref["secretKeyRef"], secret["stringData"]
                    assert key_ref["name"] == secret["metadata"]["name"]
                elif "configMapKeyRef" in ref:
                    key_ref, keys = ref["configMapKeyRef"], config["data"]
                    assert key_ref["name"] == config["metadata"]["name"]
                else:
                    assert set(variable) == {"name", "value"}, variable
                    continue
                assert key_ref["key"] in keys, f"{variable['name']}: no key {key_ref['key']}"
                assert key_ref["key"] == variable["name"]


def test_secret_template_holds_placeholders_only(k8s: K8sDocs) -> None:
    secret = _one(k8s, "Secret")
    for key, value in secret["stringData"].items():
        assert "CHANGE_ME" in value, f"{key}: only placeholders belong in the template"
    assert set(secret["stringData"]).isdisjoint(_one(k8s, "ConfigMap")["data"])


def test_images_are_tagged_and_set_by_the_kustomization(k8s: K8sDocs) -> None:
    kustomization = _kustomization(k8s)
    tags = {image["name"]: image["newTag"] for image in kustomization["images"]}
    version = tomllib.loads((df.ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert tags == {"dataeff": version, "dataeff-cuda": version}
    expected = {"dataeff-web": "dataeff", "dataeff-worker": "dataeff-cuda"}
    for name, repository in expected.items():
        for container in _containers(_pod(_one(k8s, "Deployment", name))):
            image_repository, _, tag = container["image"].rpartition(":")
            assert (image_repository, tag) == (repository, version), container["name"]


def test_pods_run_as_the_image_user_with_resources(
    k8s: K8sDocs,
    dockerfile: list[df.Instruction],
) -> None:
    user = next(i.value for i in dockerfile if i.keyword == "USER")
    uid, gid = (int(part) for part in user.split(":"))
    for _, deployment in ((p, d) for p, d in k8s if d["kind"] == "Deployment"):
        pod = _pod(deployment)
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)
        for container in _containers(pod):
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"]
            assert resources["limits"]["memory"]
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("source", ["ConfigMap", "Secret", "env"])
def test_settings_are_documented(k8s: K8sDocs, documented: set[str], source: str) -> None:
    if source == "ConfigMap":
        names = set(_one(k8s, "ConfigMap")["data"])
    elif source == "Secret":
        names = set(_one(k8s, "Secret")["stringData"])
    else:
        names = {
            v["name"]
            for _, d in k8s
            if d["kind"] == "Deployment"
            for c in _containers(_pod(d))
            for v in c.get("env", [])
        }
    assert names - documented == set(), "document them in deploy/README.md"
