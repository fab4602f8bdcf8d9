"""Static checks of the deployment artefacts: docker-compose.yml, deploy/k8s and the Dockerfiles.

No Docker engine, no cluster, no network: the files are parsed and compared with their sources of
truth — the topic names in portal_contracts.topics, the Kafka version in tools/kafka/pom.xml, the
workspace members in the root pyproject.toml — so a drift fails here rather than in a cluster.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from portal_contracts.topics import Topics

yaml = pytest.importorskip("yaml", reason="PyYAML parses the manifests")

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
PORTS = {"clients": 8101, "importer": 8102, "invitations": 8103, "ubl": 8104, "delivery": 8105}
SECRET_NAME = re.compile(r"KEY|PASSWORD|SECRET|TOKEN|CREDENTIAL", re.IGNORECASE)
PLACEHOLDER = re.compile(r"^(|<[^<>]+>|\$\{[A-Z0-9_]+(:?-[^}]*)?\})$")

Doc = dict[str, Any]


def _yaml_docs(path: Path) -> list[Doc]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


@pytest.fixture(scope="module")
def manifests() -> list[tuple[Path, Doc]]:
    found = [
        (path, doc)
        for path in sorted([*K8S.rglob("*.yaml"), *K8S.rglob("*.yml")])
        for doc in _yaml_docs(path)
    ]
    assert found, "no manifest under deploy/k8s"
    return found


@pytest.fixture(scope="module")
def base(manifests: list[tuple[Path, Doc]]) -> list[Doc]:
    return [doc for path, doc in manifests if (K8S / "base") in path.parents]


@pytest.fixture(scope="module")
def compose() -> Doc:
    docs = _yaml_docs(ROOT / "docker-compose.yml")
    assert len(docs) == 1
    return docs[0]


def _of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc.get("kind") == kind}


def _kafka_version_in_pom() -> str:
    pom = (ROOT / "tools" / "kafka" / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom)
    assert match, "kafka.version not found in tools/kafka/pom.xml"
    return match.group(1)


def _expected_topics() -> set[str]:
    topics = Topics()
    return {name for topic in topics.all() for name in (topic, topics.dead_letter(topic))}


def _container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    container: Doc = containers[0]
    return container


# ---- Kubernetes ---------------------------------------------------------------------------------


def test_every_manifest_names_its_kind(manifests: list[tuple[Path, Doc]]) -> None:
    for path, doc in manifests:
        assert doc.get("apiVersion"), path
        assert doc.get("kind"), path


def test_every_kustomization_resource_exists(manifests: list[tuple[Path, Doc]]) -> None:
    for path, doc in manifests:
        if doc["kind"] != "Kustomization":
            continue
        for resource in doc.get("resources", []):
            assert (path.parent / resource).exists(), f"{path}: missing {resource}"


def test_the_kafka_version_is_the_same_in_the_pom_compose_and_the_cluster(
    base: list[Doc], compose: Doc
) -> None:
    version = _kafka_version_in_pom()
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version}"
    (cluster,) = _of_kind(base, "Kafka").values()
    assert str(cluster["spec"]["kafka"]["version"]) == version


def test_every_contract_topic_and_its_dead_letter_twin_is_declared(base: list[Doc]) -> None:
    declared = {
        doc["spec"].get("topicName", doc["metadata"]["name"])
        for doc in _of_kind(base, "KafkaTopic").values()
    }
    assert declared == _expected_topics()


def test_production_topics_are_replicated_and_bounded(base: list[Doc]) -> None:
    (cluster_name,) = _of_kind(base, "Kafka")
    for name, topic in _of_kind(base, "KafkaTopic").items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster_name, name
        spec = topic["spec"]
        assert spec["partitions"] >= 1, name
        assert spec["replicas"] == 3, name
        assert int(spec["config"]["min.insync.replicas"]) == 2, name
        compacted = spec["config"]["cleanup.policy"] == "compact"
        assert compacted == (name in Topics().compacted()), name  # the contracts say which
        if compacted:
            continue  # the newest record per key kept for ever: test_state_topics_are_compacted
        assert spec["config"]["cleanup.policy"] == "delete", name
        assert int(spec["config"]["retention.ms"]) > 0, name


def test_state_topics_are_compacted(base: list[Doc]) -> None:
    """A compacted topic keeps each key's newest record for ever: a read model is rebuilt by
    reading it from the beginning (ClientState, OfficeProfileChanged). Time-based deletion would
    lose clients and offices."""
    declared = _of_kind(base, "KafkaTopic")
    assert Topics().compacted() == [
        "portal.clients.client-state.v1",
        "portal.clients.office-profile-changed.v1",
    ]
    for name in Topics().compacted():
        config = declared[name]["spec"]["config"]
        assert config["cleanup.policy"] == "compact", name
        assert "retention.ms" not in config, name  # only applies to deletion
        assert int(config["min.compaction.lag.ms"]) >= 60_000, name
        assert int(config["delete.retention.ms"]) >= int(config["min.compaction.lag.ms"]), name
        assert int(config["max.compaction.lag.ms"]) > int(config["segment.ms"]), name
        assert declared[Topics().dead_letter(name)]["spec"]["config"]["cleanup.policy"] == "delete"


@pytest.mark.parametrize("service", PORTS)
def test_every_service_has_a_probed_api_and_a_worker(base: list[Doc], service: str) -> None:
    deployments = _of_kind(base, "Deployment")
    api = _container(deployments[f"{service}-api"])
    assert f"portal_{service}.entrypoints.http:create_app" in api["command"]
    assert "--factory" in api["command"]
    assert str(PORTS[service]) in api["command"]
    assert api["ports"][0]["containerPort"] == PORTS[service]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service_port = _of_kind(base, "Service")[f"{service}-api"]["spec"]["ports"][0]
    assert service_port["port"] == PORTS[service]

    for name in _workers(service):
        worker = _container(deployments[name])
        assert worker["command"][:3] == ["python", "-m", f"portal_{service}.entrypoints.worker"]


def _workers(service: str) -> list[str]:
    """The worker Deployments of a service: delivery runs one per role (planner, scheduler,
    each channel), the others one."""
    if service == "delivery":
        from portal_delivery.entrypoints.worker import ROLES

        return [f"delivery-{role}" for role in ROLES]
    return [f"{service}-worker"]


def test_every_workload_is_non_root_read_only_and_bounded(base: list[Doc]) -> None:
    deployments = _of_kind(base, "Deployment")
    # every service's API and workers, and the portal's pages
    assert len(deployments) == sum(1 + len(_workers(s)) for s in PORTS) + 1
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        container = _container(deployment)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name} {bound}"


def test_workloads_take_secrets_from_secret_objects(base: list[Doc]) -> None:
    for name, deployment in _of_kind(base, "Deployment").items():
        container = _container(deployment)
        secret_refs = [
            ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref
        ]
        assert "portal-platform" in secret_refs, name
        for variable in container.get("env", []):
            if SECRET_NAME.search(variable["name"]):
                assert "valueFrom" in variable, f"{name}: literal {variable['name']}"
    for name, config in _of_kind(base, "ConfigMap").items():
        for key in config.get("data") or {}:
            assert not SECRET_NAME.search(key), f"ConfigMap {name} holds {key}"


def test_no_secret_holds_a_literal_value(manifests: list[tuple[Path, Doc]]) -> None:
    for path, doc in manifests:
        if doc["kind"] == "Secret":
            for section in ("data", "stringData"):
                for key, value in (doc.get(section) or {}).items():
                    assert PLACEHOLDER.match(str(value)), f"{path}: {key}"
        if doc["kind"] == "Kustomization":
            for generator in doc.get("secretGenerator", []):
                for literal in generator.get("literals", []):
                    key, _, value = literal.partition("=")
                    assert PLACEHOLDER.match(value), f"{path}: {key}"
    for example in K8S.rglob("*.env.example"):
        for line in example.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#") and SECRET_NAME.search(key):
                assert PLACEHOLDER.match(value.strip()), f"{example}: {key}"


DELIVERY_SCALED = {
    "planner": Topics().of("DocumentReady"),
    "email": Topics().delivery_request("email"),
    "sftp": Topics().delivery_request("sftp"),
    "onedrive": Topics().delivery_request("onedrive"),
    "clearfacts": Topics().delivery_request("api"),  # Clearfacts is the "api" channel
}


@pytest.mark.parametrize("role", DELIVERY_SCALED)
def test_each_delivery_role_scales_on_its_own_topics_lag(base: list[Doc], role: str) -> None:
    scaled = _of_kind(base, "ScaledObject")[f"delivery-{role}"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == f"delivery-{role}"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    topic = DELIVERY_SCALED[role]
    assert trigger["metadata"]["topic"] == topic
    platform = _of_kind(base, "ConfigMap")["portal-platform"]["data"]
    assert trigger["metadata"]["bootstrapServers"] == platform["KAFKA_BOOTSTRAP_SERVERS"]
    partitions = _of_kind(base, "KafkaTopic")[topic]["spec"]["partitions"]
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"] <= partitions


@pytest.mark.parametrize("role", DELIVERY_SCALED)
def test_each_scaler_watches_its_roles_consumer_group(base: list[Doc], role: str) -> None:
    delivery_config = pytest.importorskip("portal_delivery.config")
    configured = (_of_kind(base, "ConfigMap")["delivery-config"].get("data") or {}).get(
        "DELIVERY_CONSUMER_GROUP", delivery_config.Settings.model_fields["consumer_group"].default
    )
    (trigger,) = _of_kind(base, "ScaledObject")[f"delivery-{role}"]["spec"]["triggers"]
    assert trigger["metadata"]["consumerGroup"] == f"{configured}.{role}"


def test_every_delivery_worker_role_has_its_deployment(base: list[Doc]) -> None:
    from portal_delivery.entrypoints.worker import ROLES

    deployments = _of_kind(base, "Deployment")
    for role in ROLES:
        command = _container(deployments[f"delivery-{role}"])["command"]
        assert command == ["python", "-m", "portal_delivery.entrypoints.worker", "--role", role]


# ---- docker-compose.yml -------------------------------------------------------------------------


def test_compose_publishes_ports_on_loopback_only(compose: Doc) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_compose_infrastructure_has_healthchecks(compose: Doc) -> None:
    for name in ("kafka", "mongo", "mailpit", "sftp"):
        assert compose["services"][name]["healthcheck"]["test"], name


@pytest.mark.parametrize("service", PORTS)
def test_compose_runs_the_api_and_the_worker_of_every_service(compose: Doc, service: str) -> None:
    services = compose["services"]
    api, workers = services[f"{service}-api"], [services[w] for w in _workers(service)]
    for container in (api, *workers):
        assert container["build"]["context"] == "."
        assert container["build"]["dockerfile"] == f"services/{service}/Dockerfile"
        env = container["environment"]
        for variable in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "PORTAL_JWT_JWKS_URL"):
            assert env[variable], variable
        assert "PORTAL_TOPIC_PREFIX" in env
        for infra in ("kafka", "mongo"):
            assert container["depends_on"][infra]["condition"] == "service_healthy"
    assert api["ports"] == [f"127.0.0.1:{PORTS[service]}:{PORTS[service]}"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    for worker in workers:
        assert worker["command"][:3] == ["python", "-m", f"portal_{service}.entrypoints.worker"]


def _assert_real_settings(service: str, names: set[str]) -> None:
    """A misspelt <SERVICE>_ variable would be silently ignored (extra="ignore"): catch it."""
    try:
        config = importlib.import_module(f"portal_{service}.config")
    except ModuleNotFoundError:
        pytest.skip(f"portal_{service}.config is not written yet")
    prefix = f"{service.upper()}_"
    fields = set(config.Settings.model_fields)
    for name in sorted(n for n in names if n.startswith(prefix)):
        assert name.removeprefix(prefix).lower() in fields, name


@pytest.mark.parametrize("service", PORTS)
def test_service_variables_name_real_settings(compose: Doc, base: list[Doc], service: str) -> None:
    names = set(compose["services"][f"{service}-api"]["environment"])
    for worker in _workers(service):
        names |= set(compose["services"][worker]["environment"])
    names |= set(_of_kind(base, "ConfigMap")[f"{service}-config"].get("data") or {})
    for example in K8S.rglob(f"{service}.env.example"):
        text = example.read_text(encoding="utf-8")
        names |= set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    _assert_real_settings(service, names)


def test_compose_secrets_come_from_the_environment(compose: Doc) -> None:
    """A secret may have a development default in compose, always overridable from the shell."""
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert PLACEHOLDER.match(str(value)), f"{name}: {key}"


# ---- Dockerfiles --------------------------------------------------------------------------------


def _workspace_members() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[str] = []
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            str(path.parent.relative_to(ROOT)) for path in ROOT.glob(f"{pattern}/pyproject.toml")
        )
    return members


def _instructions(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = dockerfile.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [" ".join(i.split()) for i in re.split(r"\n(?=\S)", "\n".join(lines)) if i.strip()]


@pytest.mark.parametrize("service", PORTS)
def test_each_dockerfile_syncs_the_frozen_lock_and_runs_as_non_root(service: str) -> None:
    instructions = _instructions(ROOT / "services" / service / "Dockerfile")
    joined = "\n".join(instructions).replace("\\ ", "")
    assert f"uv sync --frozen --no-dev --no-editable --package portal-{service}" in joined
    for member in _workspace_members():
        assert f"COPY {member}/pyproject.toml {member}/" in instructions, member

    runtime = instructions[max(i for i, s in enumerate(instructions) if s.startswith("FROM "))]
    assert runtime.startswith("FROM ${PYTHON_IMAGE}") or runtime.startswith("FROM python:3.11")
    assert any(s == "ARG PYTHON_IMAGE=python:3.11-slim" for s in instructions)
    user = [s for s in instructions if s.startswith("USER ")][-1].split()[1]
    assert user.split(":")[0] not in ("root", "0"), user
    cmd = [s for s in instructions if s.startswith("CMD ")][-1]
    assert f"portal_{service}.entrypoints.http:create_app" in cmd
    assert f'"{PORTS[service]}"' in cmd


def test_the_docker_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", ".data", ".cache", "**/tests"):
        assert entry in ignored, entry


# ---- kustomize build (when kustomize or kubectl is installed) -----------------------------------


def _kustomize_command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    pytest.skip("neither kustomize nor kubectl is installed")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Doc]]:
    """Each overlay rendered by kustomize, from a copy where the dev secrets/*.env exist."""
    command = _kustomize_command()
    copy = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, copy)
    for example in copy.rglob("*.env.example"):
        example.with_suffix("").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    out: dict[str, list[Doc]] = {}
    for overlay in ("dev", "prod"):
        result = subprocess.run(
            [*command, str(copy / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        out[overlay] = [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]
    return out


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_the_whole_portal(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    deployments = _of_kind(docs, "Deployment")
    for service in PORTS:
        for name in [f"{service}-api", *_workers(service)]:
            deployment = deployments[name]
            assert deployment["metadata"]["namespace"], name
            image = _container(deployment)["image"]
            assert image.split("/")[-1].startswith(f"portal-{service}:"), image
    assert _of_kind(docs, "KafkaTopic").keys() == _expected_topics()
    assert {"delivery-planner", "delivery-email", "delivery-sftp"} <= _of_kind(
        docs, "ScaledObject"
    ).keys()


def test_the_dev_overlay_generates_every_secret_the_workloads_read(
    rendered: dict[str, list[Doc]],
) -> None:
    docs = rendered["dev"]
    secrets = _of_kind(docs, "Secret")
    for name, deployment in _of_kind(docs, "Deployment").items():
        for ref in _container(deployment).get("envFrom", []):
            if "secretRef" in ref:
                assert ref["secretRef"]["name"] in secrets, f"{name}: {ref}"


def test_the_prod_overlay_defines_no_secret(rendered: dict[str, list[Doc]]) -> None:
    assert not _of_kind(rendered["prod"], "Secret")
    apis = [d for n, d in _of_kind(rendered["prod"], "Deployment").items() if n.endswith("-api")]
    assert all(d["spec"]["replicas"] >= 2 for d in apis)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("service", PORTS)
def test_overlay_settings_name_real_settings(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    config = _of_kind(rendered[overlay], "ConfigMap")[f"{service}-config"]
    _assert_real_settings(service, set(config.get("data") or {}))
