"""Static checks of deploy/docker-compose.yml and deploy/.env.example.

`docker compose config` needs the compose plugin, which is not installed here; these checks
cover what it would reject (unknown keys, undefined volumes or networks, broken depends_on)
and what it would accept but run wrongly (wiring, GPU reservation, SSRF list, secrets).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

import deploy_files as df
import pytest

SERVICES = {"postgres", "redis", "label-studio", "dataeff-migrate", "dataeff", "dataeff-worker"}
DATAEFF_SERVICES = ("dataeff-migrate", "dataeff", "dataeff-worker")

# The compose specification's service attributes (compose-spec.json), to catch typos.
SERVICE_KEYS = {
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
}
TOP_LEVEL_KEYS = {"name", "services", "networks", "volumes", "configs", "secrets", "include"}
HEALTHCHECK_KEYS = {
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# Label Studio 1.23.2's built-in banned networks (core/utils/io.py validate_ip): the IANA
# special-purpose ranges. The compose file must ban all of them except the ml-link subnet.
LABEL_STUDIO_DEFAULT_BANNED = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "233.252.0.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "::ffff:0:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001:0000::/32",
    "2001:20::/28",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
]


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service = compose["services"][name]
    assert isinstance(service, dict)
    return service


def _env(compose: dict[str, Any], name: str) -> dict[str, Any]:
    env = _service(compose, name).get("environment", {})
    assert isinstance(env, dict), f"{name}: use the mapping form of environment"
    return env


def test_services_and_keys_are_known(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES
    unknown_top = {k for k in compose if k not in TOP_LEVEL_KEYS and not k.startswith("x-")}
    assert unknown_top == set()
    for name, service in compose["services"].items():
        assert set(service) <= SERVICE_KEYS, f"{name}: {set(service) - SERVICE_KEYS}"
        assert set(service.get("healthcheck", {})) <= HEALTHCHECK_KEYS, name


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = df.resolve(service["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and "${" not in repository, f"{name}: {image}"
    assert _service(compose, "label-studio")["image"] == "heartexlabs/label-studio:1.23.2"


def test_builds_match_the_dockerfile(
    compose: dict[str, Any],
    dockerfile: list[df.Instruction],
) -> None:
    declared = {name for i in dockerfile if i.keyword == "ARG" for name in i.env_pairs()}
    base_default = dockerfile[0].env_pairs()["BASE_IMAGE"]
    images = {}
    for name in DATAEFF_SERVICES:
        service = _service(compose, name)
        build = service["build"]
        assert os.path.normpath(df.DEPLOY / build["context"]) == str(df.ROOT)
        assert (df.ROOT / build["dockerfile"]) == df.DOCKERFILE
        assert set(build["args"]) <= declared, f"{name}: unknown build args"
        args = {key: df.resolve(str(value)) for key, value in build["args"].items()}
        images[name] = (df.resolve(service["image"]).rpartition(":")[0], args)
    for cpu in ("dataeff", "dataeff-migrate"):
        assert images[cpu] == ("dataeff", {"BASE_IMAGE": base_default, "TORCH_VARIANT": "cpu"})
    repository, gpu_args = images["dataeff-worker"]
    assert repository == "dataeff-cuda"
    assert gpu_args["BASE_IMAGE"].startswith("nvidia/cuda:")
    assert gpu_args["BASE_IMAGE"].endswith("-runtime-ubuntu22.04")
    assert gpu_args["TORCH_VARIANT"].startswith("cu")


def test_worker_reserves_one_nvidia_gpu(compose: dict[str, Any]) -> None:
    worker = _service(compose, "dataeff-worker")
    assert worker["command"] == ["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert _env(compose, "dataeff-worker")["DATAEFF_DEVICE"] == "cuda"


def test_web_serves_on_9090_published_on_loopback_only(compose: dict[str, Any]) -> None:
    web = _service(compose, "dataeff")
    assert web["command"] == ["serve", "--host", "0.0.0.0", "--port", "9090"]
    assert web["ports"] == ["127.0.0.1:${DATAEFF_PORT:-9090}:9090"]
    assert _env(compose, "dataeff")["DATAEFF_DEVICE"] == "cpu"
    assert _service(compose, "label-studio")["ports"] == ["${LABEL_STUDIO_PORT:-8080}:8080"]
    for name in SERVICES - {"dataeff", "label-studio"}:
        assert "ports" not in _service(compose, name), f"{name} must not be published"


def _has_healthcheck(compose: dict[str, Any], name: str) -> bool:
    check = _service(compose, name).get("healthcheck")
    if check is None:  # dataeff's images carry a HEALTHCHECK (tests/deploy/test_dockerfile.py)
        return name in DATAEFF_SERVICES
    return not check.get("disable", False)


def test_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("postgres", "redis", "label-studio"):
        test = _service(compose, name)["healthcheck"]["test"]
        assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, name
    assert _has_healthcheck(compose, "dataeff")
    # no HTTP in the worker and the one-shot migration: the image's /health check is off
    assert not _has_healthcheck(compose, "dataeff-worker")
    assert not _has_healthcheck(compose, "dataeff-migrate")


def test_depends_on_conditions(compose: dict[str, Any]) -> None:
    expected = {
        "label-studio": {"postgres": "service_healthy"},
        "dataeff-migrate": {"postgres": "service_healthy"},
        "dataeff": {
            "dataeff-migrate": "service_completed_successfully",
            "postgres": "service_healthy",
            "redis": "service_healthy",
        },
        "dataeff-worker": {
            "dataeff-migrate": "service_completed_successfully",
            "postgres": "service_healthy",
            "redis": "service_healthy",
        },
    }
    for name in SERVICES:
        depends = _service(compose, name).get("depends_on", {})
        conditions = {target: spec["condition"] for target, spec in depends.items()}
        assert conditions == expected.get(name, {}), name
        for target, condition in conditions.items():
            assert condition in DEPENDS_ON_CONDITIONS
            if condition == "service_healthy":
                assert _has_healthcheck(compose, target), f"{name} waits on {target}'s health"
            if condition == "service_completed_successfully":
                assert _service(compose, target)["restart"] == "no"
    assert _service(compose, "dataeff-migrate")["command"] == ["db", "upgrade"]


def test_volumes_are_declared_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    used: set[str] = set()
    for name, service in compose["services"].items():
        for spec in service.get("volumes", []):
            source = spec.split(":")[0]
            if source.startswith((".", "/")):
                path = df.DEPLOY / source
                assert path.exists(), f"{name}: bind mount {source} does not exist"
                assert spec.endswith(":ro"), f"{name}: mount {source} read-only"
            else:
                used.add(source)
    assert used == set(compose["volumes"])
    assert os.access(df.POSTGRES_INIT, os.X_OK)
    persistent = {
        "postgres": "/var/lib/postgresql/data",
        "redis": "/data",
        "label-studio": "/label-studio/data",
    }
    for name, target in persistent.items():
        assert any(v.split(":")[1] == target for v in _service(compose, name)["volumes"]), name


def _networks(compose: dict[str, Any]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    for name, service in compose["services"].items():
        for network in service["networks"]:
            members.setdefault(network, set()).add(name)
    return members


def test_networks_isolate_label_studio_from_the_data_stores(compose: dict[str, Any]) -> None:
    members = _networks(compose)
    assert set(members) == set(compose["networks"])
    assert members["ml-link"] == {"label-studio", "dataeff", "dataeff-worker"}
    assert members["labelstudio-db"] == {"label-studio", "postgres"}
    assert members["backend"] == {"postgres", "redis", *DATAEFF_SERVICES}
    # one shared network each, so compose DNS answers one address for every peer
    for peer in ("dataeff", "dataeff-worker", "postgres"):
        shared = [n for n, m in members.items() if {"label-studio", peer} <= m]
        assert len(shared) == 1, (peer, shared)


def _ml_link_subnet(compose: dict[str, Any]) -> ipaddress.IPv4Network:
    configs = compose["networks"]["ml-link"]["ipam"]["config"]
    assert len(configs) == 1
    subnet = ipaddress.ip_network(configs[0]["subnet"])
    assert isinstance(subnet, ipaddress.IPv4Network) and subnet.is_private
    return subnet


def test_label_studio_ssrf_lets_through_only_the_ml_link_subnet(compose: dict[str, Any]) -> None:
    env = _env(compose, "label-studio")
    # the protections stay on; only the banned list changes
    assert env["SSRF_PROTECTION_ENABLED"] == "true"
    assert env["ML_BLOCK_LOCAL_IP"] == "true"
    assert env["USE_DEFAULT_BANNED_SUBNETS"] == "false"
    listed = env["USER_ADDITIONAL_BANNED_SUBNETS"]
    assert " " not in listed, "Label Studio splits on ',' without trimming spaces"
    banned = [ipaddress.ip_network(item) for item in listed.split(",")]
    subnet = _ml_link_subnet(compose)
    expected: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for text in LABEL_STUDIO_DEFAULT_BANNED:
        network = ipaddress.ip_network(text)
        if isinstance(network, ipaddress.IPv4Network) and subnet.subnet_of(network):
            expected.extend(sorted(network.address_exclude(subnet)))
        else:
            expected.append(network)
    assert banned == expected

    def blocked(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip.version == n.version and ip in n for n in banned)

    assert not any(blocked(str(host)) for host in subnet.hosts())
    for address in (
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.5",
        "192.168.1.10",
        "172.17.0.2",
        str(subnet.network_address - 1),
        str(subnet.broadcast_address + 1),
        "::1",
    ):
        assert blocked(address), address


def test_processes_are_wired_to_the_services(compose: dict[str, Any]) -> None:
    postgres = _env(compose, "postgres")
    label_studio = _env(compose, "label-studio")
    for name in DATAEFF_SERVICES:
        env = _env(compose, name)
        db = urlsplit(df.resolve(env["DATAEFF_DB_URL"]))
        assert db.scheme == "postgresql+psycopg" and db.hostname == "postgres"
        assert (db.username, db.path) == (postgres["POSTGRES_USER"], "/" + postgres["POSTGRES_DB"])
        assert (db.port, db.password) == (5432, "POSTGRES_PASSWORD-value")
        queue = urlsplit(df.resolve(env["DATAEFF_QUEUE"]))
        assert (queue.scheme, queue.hostname, queue.port) == ("redis", "redis", 6379)
        assert env["LABEL_STUDIO_URL"] == "http://label-studio:8080"
        assert env["LABEL_STUDIO_API_KEY"] == label_studio["LABEL_STUDIO_USER_TOKEN"]
    assert label_studio["POSTGRE_HOST"] == "postgres"
    assert label_studio["POSTGRE_PASSWORD"] == postgres["LABEL_STUDIO_DB_PASSWORD"]
    init = df.POSTGRES_INIT.read_text()
    assert f"LABEL_STUDIO_DB_NAME:-{label_studio['POSTGRE_NAME']}" in init
    assert f"LABEL_STUDIO_DB_USER:-{label_studio['POSTGRE_USER']}" in init
    # the three dataeff processes read the same settings
    shared = {k: v for k, v in _env(compose, "dataeff").items() if k != "DATAEFF_DEVICE"}
    for name in ("dataeff-migrate", "dataeff-worker"):
        assert {k: v for k, v in _env(compose, name).items() if k != "DATAEFF_DEVICE"} == shared


def test_dataeff_settings_are_documented(compose: dict[str, Any], documented: set[str]) -> None:
    for name in DATAEFF_SERVICES:
        missing = set(_env(compose, name)) - documented
        assert missing == set(), f"{name}: document {sorted(missing)} in deploy/README.md"


def test_every_variable_has_a_default_or_is_in_env_example(
    compose: dict[str, Any],
    env_example: tuple[dict[str, str], set[str]],
) -> None:
    values, commented = env_example
    text = df.COMPOSE.read_text()
    assert df.bare_dollars(text) == [], "use ${NAME} with a default or a :? message"
    used: set[str] = set()
    for found in df.interpolations(text):
        used.add(found.name)
        if found.operator in {":?", "?"}:
            assert found.name in values, f"{found.name} is required: list it in .env.example"
            assert values[found.name] == "", f"{found.name}: no real secret in .env.example"
            assert "deploy/.env" in found.argument, f"{found.name}: say where to set it"
        else:
            assert found.operator in {":-", "-"}, f"${{{found.name}}} has no default"
            # .env.example shows the default the compose file uses
            assert values.get(found.name) == found.argument, found.name
    for name in DATAEFF_SERVICES:  # no value: passed through from deploy/.env when set there
        for key, value in _env(compose, name).items():
            if value is None:
                used.add(key)
                assert key in commented, f"{key}: show it commented out in .env.example"
    assert set(values) | commented == used, "stale or missing names in .env.example"


@pytest.mark.parametrize("name", ["deploy/.env", "deploy/k8s/secret.yaml"])
def test_local_secret_files_are_git_ignored(name: str) -> None:
    ignore_file = df.ROOT / os.path.dirname(name) / ".gitignore"
    assert f"/{os.path.basename(name)}" in ignore_file.read_text().split()
