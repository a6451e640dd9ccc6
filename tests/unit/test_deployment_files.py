"""The deployment files (compose.*.yml, docker/*.Dockerfile, docker/k8s/, docker/.env.example) are wired
together: fast, no Docker. Each check is a function returning the problems it finds, and each is shown to
catch a deliberately broken in-memory copy."""

from __future__ import annotations

import copy
import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from archives.served import load_served_models
from orchestrator.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE_FILES = [ROOT / "compose.gpu.yml", ROOT / "compose.cpu.yml"]
K8S_DIR = DOCKER / "k8s"
ENV_EXAMPLE = DOCKER / ".env.example"
# Executables that third-party images ship (their healthchecks use nothing else).
THIRD_PARTY_TOOLS = {"mongo": {"mongosh"}, "redis": {"redis-cli", "redis-server"}, "minio/minio": {"mc", "minio"}}
# MUSEAIKA_ variables read with os.environ rather than through Settings, and the file that reads each.
NON_SETTINGS_VARIABLES = {"MUSEAIKA_WORKER_READY_FILE": ROOT / "orchestrator" / "melodies" / "worker.py"}
# Settings that production must set (check_production_safety refuses the defaults).
PRODUCTION_REQUIRED = {"MUSEAIKA_ENVIRONMENT", "MUSEAIKA_JWT_SECRET", "MUSEAIKA_S3_ACCESS_KEY",
                       "MUSEAIKA_S3_SECRET_KEY", "MUSEAIKA_SPOTIFY_CLIENT_ID", "MUSEAIKA_SPOTIFY_TOKEN_KEY"}
URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"]+")
SETTING_FIELDS = {f"MUSEAIKA_{name.upper()}" for name in Settings.model_fields}

Doc = dict[str, Any]


def load_compose(path: Path) -> Doc:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def load_k8s() -> list[Doc]:
    docs: list[Doc] = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def built_archives() -> set[str]:
    """The archives `./museaika setup` builds: every version in config/models.yaml (tests/unit/test_served_models.py
    checks that the script builds exactly those)."""
    return {served.archive for model in load_served_models().values() for served in model.versions}


# --- Dockerfiles ---------------------------------------------------------------------------------------------


def dockerfile_tools(path: Path) -> set[str]:
    """Executables a Dockerfile's image provides: python (python base images), apt-get installs, and the
    console scripts of what pip installs (approximated by torchserve/uvicorn names in requirements)."""
    text = path.read_text()
    tools: set[str] = set()
    base = re.search(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert base, f"{path.name}: no FROM"
    image = base.group(1)
    if image.startswith("python:") or image.startswith("pytorch/"):
        tools |= {"python", "python3", "pip", "sh"}
    elif image.startswith(("debian:", "ubuntu:", "nvidia/cuda:")):
        tools |= {"sh"}
    for packages in re.findall(r"apt-get install[^&\n]*?((?:\s+[a-z0-9][\w.+-]*)+)", text):
        for package in packages.split():
            tools.add(package)
            if package.startswith("openjdk-"):
                tools.add("java")
    if re.search(r"pip install[^\n]*requirements/runtime\.txt", text):
        tools |= {"torchserve", "torch-model-archiver", "uvicorn"}
    if re.search(r"pip install[^\n]*requirements/orchestrator\.txt", text):
        tools |= {"uvicorn"}
    return tools


def healthcheck_executable(test: list[str] | str) -> str:
    if isinstance(test, str):
        return shlex.split(test)[0]
    if test[0] in ("CMD", "CMD-SHELL"):
        return shlex.split(test[1])[0] if test[0] == "CMD-SHELL" else test[1]
    return test[0]


def dockerfile_healthcheck(path: Path) -> str | None:
    match = re.search(r"^HEALTHCHECK[^\n]*(?:\\\n[^\n]*)*?CMD\s+\[\s*\"([^\"]+)\"", path.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def dockerfile_copies(path: Path) -> list[str]:
    sources: list[str] = []
    for line in re.findall(r"^COPY\s+(.+)$", path.read_text(), re.MULTILINE):
        parts = [p for p in line.split() if not p.startswith("--")]
        sources.extend(parts[:-1])
    return sources


def dockerfile_problems(path: Path) -> list[str]:
    problems: list[str] = []
    text = path.read_text()
    executable = dockerfile_healthcheck(path)
    if executable is None:
        problems.append(f"{path.name}: no HEALTHCHECK")
    elif executable not in dockerfile_tools(path):
        problems.append(f"{path.name}: healthcheck runs {executable!r}, which the image does not install")
    if not re.search(r"^USER\s+(?!root\b|0\b)\S+", text, re.MULTILINE):
        problems.append(f"{path.name}: runs as root")
    for source in dockerfile_copies(path):
        if not list(ROOT.glob(source.rstrip("/"))) and not source.startswith("model_store/"):
            problems.append(f"{path.name}: COPY {source} names nothing in the repository")
        if source.startswith("model_store/") and not fnmatch.filter(built_archives(), Path(source).name):
            problems.append(f"{path.name}: COPY {source} is not an archive ./museaika builds")
    return problems


# --- compose -------------------------------------------------------------------------------------------------


def service_ports(service: Doc, image_ports: dict[str, set[int]]) -> set[int]:
    """Ports a compose service listens on: its image's EXPOSE lines, or the well-known port of a
    third-party image."""
    image = str(service.get("image", ""))
    for name, ports in image_ports.items():
        if image == name or image.startswith(name + ":"):
            return ports
    build = service.get("build")
    if isinstance(build, dict) and "dockerfile" in build:
        exposed = re.findall(r"^EXPOSE\s+(.+)$", (ROOT / build["dockerfile"]).read_text(), re.MULTILINE)
        return {int(p.split("/")[0]) for line in exposed for p in line.split()}
    return set()


THIRD_PARTY_PORTS = {"mongo": {27017}, "redis": {6379}, "minio/minio": {9000, 9001}}


def environment_of(service: Doc) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def addresses_in(value: str, key: str) -> list[tuple[str, int]]:
    """(host, port) pairs named by a setting: URLs, and the host:port form of MUSEAIKA_S3_ENDPOINT."""
    found: list[tuple[str, int]] = []
    for url in URL_RE.findall(value):
        parsed = urlparse(url)
        if parsed.hostname:
            default = {"http": 80, "https": 443, "redis": 6379, "mongodb": 27017}.get(parsed.scheme, 0)
            found.append((parsed.hostname, parsed.port or default))
    if key.endswith("_ENDPOINT") and "://" not in value and ":" in value:
        host, port = value.rsplit(":", 1)
        found.append((host, int(port)))
    return found


def compose_problems(doc: Doc) -> list[str]:
    problems: list[str] = []
    services: dict[str, Doc] = doc.get("services") or {}
    ports = {name: service_ports(service, THIRD_PARTY_PORTS) for name, service in services.items()}
    archives = built_archives()
    for name, service in services.items():
        for key, value in environment_of(service).items():
            for host, port in addresses_in(value, key):
                if host not in services:
                    problems.append(f"{name}: {key} names {host!r}, not a service")
                elif port not in ports[host]:
                    problems.append(f"{name}: {key} names {host}:{port}, but {host} listens on {sorted(ports[host])}")
            if key.startswith("MUSEAIKA_") and key not in SETTING_FIELDS and key not in NON_SETTINGS_VARIABLES:
                problems.append(f"{name}: {key} is not a setting")
        if service.get("ports") and name != "orchestrator":
            problems.append(f"{name}: publishes ports {service['ports']}; only the orchestrator may")
        if service.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {service.get('restart')!r}, not unless-stopped")
        healthcheck = service.get("healthcheck")
        build = service.get("build")
        if not healthcheck:
            problems.append(f"{name}: no healthcheck")
        else:
            executable = healthcheck_executable(healthcheck["test"])
            if isinstance(build, dict):
                tools = dockerfile_tools(ROOT / build["dockerfile"])
            else:
                image = str(service.get("image", "")).split(":")[0]
                tools = THIRD_PARTY_TOOLS.get(image, set())
            if executable not in tools:
                problems.append(f"{name}: healthcheck runs {executable!r}, which its image does not install")
        if isinstance(build, dict):
            dockerfile = build.get("dockerfile", "")
            if not (dockerfile.startswith("docker/") and (ROOT / dockerfile).is_file()):
                problems.append(f"{name}: dockerfile {dockerfile!r} is not in docker/")
        elif str(service.get("image", "")).split(":")[0] not in THIRD_PARTY_TOOLS:
            problems.append(f"{name}: image {service.get('image')!r} is neither built from docker/ nor known")
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on without condition: service_healthy")
        else:
            for dependency, condition in depends.items():
                if dependency not in services:
                    problems.append(f"{name}: depends on {dependency!r}, not a service")
                if (condition or {}).get("condition") != "service_healthy":
                    problems.append(f"{name}: depends on {dependency} without condition: service_healthy")
        for mount in service.get("volumes") or []:
            for archive in re.findall(r"(\w+)\.mar", str(mount)):
                if f"{archive}.mar" not in archives:
                    problems.append(f"{name}: mounts {archive}.mar, which ./museaika does not build")
    return problems


def gpu_reservation(service: Doc) -> list[Doc]:
    reservations: list[Doc] = (((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get(
        "devices") or []
    return reservations


# --- Kubernetes ----------------------------------------------------------------------------------------------


def k8s_problems(docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    by_kind: dict[str, dict[str, Doc]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    services = by_kind.get("Service", {})
    service_ports_by_name = {name: {p["port"] for p in s["spec"]["ports"]} for name, s in services.items()}
    config_maps = by_kind.get("ConfigMap", {})
    secrets = by_kind.get("Secret", {})
    deployments = by_kind.get("Deployment", {})
    dockerfiles = {p.name.removesuffix(".Dockerfile") for p in DOCKER.glob("*.Dockerfile")}

    def check_env(owner: str, key: str, value: str) -> None:
        for host, port in addresses_in(value, key):
            if host not in services:
                problems.append(f"{owner}: {key} names {host!r}, not a Service")
            elif port not in service_ports_by_name[host]:
                problems.append(f"{owner}: {key} names {host}:{port}; Service {host} exposes "
                                f"{sorted(service_ports_by_name[host])}")
        if key.startswith("MUSEAIKA_") and key not in SETTING_FIELDS and key not in NON_SETTINGS_VARIABLES:
            problems.append(f"{owner}: {key} is not a setting")

    for name, config_map in config_maps.items():
        for key, value in (config_map.get("data") or {}).items():
            if key.startswith("MUSEAIKA_"):
                check_env(f"ConfigMap {name}", key, str(value))
    for name, secret in secrets.items():
        for key in (secret.get("stringData") or secret.get("data") or {}):
            if key.startswith("MUSEAIKA_") and key not in SETTING_FIELDS:
                problems.append(f"Secret {name}: {key} is not a setting")

    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if deployment["spec"]["selector"]["matchLabels"].items() - labels.items():
            problems.append(f"Deployment {name}: selector does not match its pod labels")
        for container in pod["containers"]:
            image = container["image"].split(":")[0]
            if image.removeprefix("museaika-") not in dockerfiles:
                problems.append(f"Deployment {name}: image {container['image']} has no Dockerfile in docker/")
            for source in container.get("envFrom") or []:
                ref = source.get("configMapRef") or source.get("secretRef") or {}
                known = config_maps if "configMapRef" in source else secrets
                if ref.get("name") not in known:
                    problems.append(f"Deployment {name}: envFrom {ref.get('name')!r} is not defined")
            for item in container.get("env") or []:
                if "value" in item:
                    check_env(f"Deployment {name}", item["name"], str(item["value"]))
            for volume in pod.get("volumes") or []:
                if "configMap" in volume and volume["configMap"]["name"] not in config_maps:
                    problems.append(f"Deployment {name}: volume ConfigMap {volume['configMap']['name']!r} undefined")
            probes = {kind: container.get(kind) for kind in ("readinessProbe", "livenessProbe")}
            if name == "torchserve":
                limits = container.get("resources", {}).get("limits", {})
                if "nvidia.com/gpu" not in limits:
                    problems.append("Deployment torchserve: no nvidia.com/gpu limit")
                if not pod.get("nodeSelector") or not pod.get("tolerations"):
                    problems.append("Deployment torchserve: no GPU nodeSelector/tolerations")
                ready = (probes["readinessProbe"] or {}).get("httpGet") or {}
                if (ready.get("path"), ready.get("port")) != ("/ping", 8080):
                    problems.append("Deployment torchserve: readiness is not GET /ping on 8080")
            if name == "orchestrator":
                ready = (probes["readinessProbe"] or {}).get("httpGet") or {}
                live = (probes["livenessProbe"] or {}).get("httpGet") or {}
                if ready.get("path") != "/readyz" or live.get("path") != "/healthz":
                    problems.append("Deployment orchestrator: readiness must be /readyz and liveness /healthz")
            if not probes["readinessProbe"]:
                problems.append(f"Deployment {name}: no readiness probe")
    for name, service in services.items():
        selector = service["spec"]["selector"]
        if not any(selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
                   for d in deployments.values()):
            problems.append(f"Service {name}: selects no Deployment's pods")
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        if hpa["spec"]["scaleTargetRef"]["name"] not in deployments:
            problems.append(f"HorizontalPodAutoscaler {name}: scales an undefined Deployment")
    if not any(h["spec"]["scaleTargetRef"]["name"] == "orchestrator"
               for h in by_kind.get("HorizontalPodAutoscaler", {}).values()):
        problems.append("no HorizontalPodAutoscaler for the orchestrator")
    return problems


# --- env example ---------------------------------------------------------------------------------------------


def parse_env_file(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def env_example_problems(values: dict[str, str]) -> list[str]:
    problems = [f"{key} is not a Settings field" for key in values
                if key.startswith("MUSEAIKA_") and key not in SETTING_FIELDS]
    problems += [f"{key} is missing" for key in sorted(PRODUCTION_REQUIRED - values.keys())]
    if values.get("MUSEAIKA_ENVIRONMENT") != "production":
        problems.append("MUSEAIKA_ENVIRONMENT is not production")
    return problems


# --- tests ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DOCKER.glob("*.Dockerfile")), ids=lambda p: p.name)
def test_dockerfiles(path: Path) -> None:
    assert dockerfile_problems(path) == []


def test_dockerfile_check_catches_an_uninstalled_healthcheck_tool(tmp_path: Path) -> None:
    broken = tmp_path / "broken.Dockerfile"
    text = (DOCKER / "orchestrator.Dockerfile").read_text()
    broken.write_text(text.replace('CMD ["python", "-c", "import urllib', 'CMD ["curl", "-c", "import urllib'))
    assert any("'curl'" in p for p in dockerfile_problems(broken))
    broken.write_text(text.replace("USER 10001:10001", "USER root"))
    assert any("root" in p for p in dockerfile_problems(broken))


def test_dockerfile_check_catches_an_unbuilt_archive(tmp_path: Path) -> None:
    broken = tmp_path / "torchserve.Dockerfile"
    text = (DOCKER / "torchserve.Dockerfile").read_text()
    assert "COPY model_store/*.mar model_store/" in text
    broken.write_text(text.replace("COPY model_store/*.mar", "COPY model_store/face*.mar"))
    assert any("face*.mar" in p for p in dockerfile_problems(broken))


def test_torch_free_images() -> None:
    for name in ("orchestrator", "worker"):
        text = (DOCKER / f"{name}.Dockerfile").read_text()
        assert "requirements/orchestrator.txt" in text and "runtime.txt" not in text
    packages = {re.split(r"[=<>\s]", line)[0].lower()
                for line in (ROOT / "requirements" / "orchestrator.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert not packages & {"torch", "torchvision", "transformers", "facenet-pytorch", "torchserve", "fer"}


def test_torchserve_image_keeps_token_auth() -> None:
    # Its models and batching are config/models.yaml's, like every generated file (tests/unit/test_served_models.py).
    docker_props = parse_env_file((DOCKER / "torchserve.properties").read_text())
    assert docker_props["disable_token_authorization"] == "false"
    assert "openjdk" in (DOCKER / "torchserve.Dockerfile").read_text()


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_wiring(path: Path) -> None:
    doc = load_compose(path)
    assert compose_problems(doc) == []
    assert set(doc["services"]) == {"mongo", "redis", "minio", "torchserve", "orchestrator", "worker"}
    assert "--appendonly" in doc["services"]["redis"]["command"]
    for name in ("mongo", "redis", "minio"):
        assert doc["services"][name].get("volumes"), f"{name} keeps no data"
    for name in ("orchestrator", "worker"):
        assert doc["services"][name]["env_file"] == "docker/.env"


def test_gpu_compose_reserves_the_gpu_and_cpu_does_not() -> None:
    gpu = load_compose(ROOT / "compose.gpu.yml")["services"]
    cpu = load_compose(ROOT / "compose.cpu.yml")["services"]
    assert gpu_reservation(gpu["torchserve"]) == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    assert all(not gpu_reservation(service) for service in cpu.values())
    assert "whl/cpu" in cpu["torchserve"]["build"]["args"]["TORCH_INDEX_URL"]


@pytest.mark.parametrize("breakage", ["wrong host", "wrong port", "published port", "missing tool", "no condition",
                                      "unknown setting", "unbuilt archive"])
def test_compose_check_catches_broken_copies(breakage: str) -> None:
    doc = copy.deepcopy(load_compose(ROOT / "compose.gpu.yml"))
    services = doc["services"]
    if breakage == "wrong host":
        services["orchestrator"]["environment"]["MUSEAIKA_MONGO_URL"] = "mongodb://mongodb:27017"
    elif breakage == "wrong port":
        services["worker"]["environment"]["MUSEAIKA_TORCHSERVE_INFERENCE_URL"] = "http://torchserve:9090"
    elif breakage == "published port":
        services["torchserve"]["ports"] = ["8080:8080"]
    elif breakage == "missing tool":
        services["redis"]["healthcheck"]["test"] = ["CMD", "curl", "-f", "http://localhost"]
    elif breakage == "no condition":
        services["orchestrator"]["depends_on"] = ["mongo"]
    elif breakage == "unknown setting":
        services["orchestrator"]["environment"]["MUSEAIKA_MONGO_URI"] = "x"
    elif breakage == "unbuilt archive":
        services["torchserve"]["volumes"] = ["./model_store/face.mar:/srv/model_store/face.mar:ro"]
    assert compose_problems(doc) != []


def test_k8s_wiring() -> None:
    docs = load_k8s()
    assert k8s_problems(docs) == []
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for name in ("orchestrator", "worker", "torchserve"):
        assert ("Deployment", name) in kinds
    assert {("Service", "orchestrator"), ("Service", "torchserve")} <= kinds
    ts_config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "torchserve-properties")
    props = parse_env_file(ts_config["data"]["torchserve.properties"])
    # Token authorization is off only behind a NetworkPolicy that admits just the orchestrator and the worker.
    if props.get("disable_token_authorization") == "true":
        policy = next(d for d in docs if d["kind"] == "NetworkPolicy")
        assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "torchserve"}


@pytest.mark.parametrize("breakage", ["wrong service", "wrong port", "no gpu", "bad probe", "missing configmap",
                                      "unknown setting"])
def test_k8s_check_catches_broken_copies(breakage: str) -> None:
    docs = copy.deepcopy(load_k8s())

    def find(kind: str, name: str) -> Doc:
        return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)

    config = find("ConfigMap", "museaika-config")["data"]
    torchserve = find("Deployment", "torchserve")["spec"]["template"]["spec"]["containers"][0]
    if breakage == "wrong service":
        config["MUSEAIKA_TORCHSERVE_INFERENCE_URL"] = "http://model-server:8080"
    elif breakage == "wrong port":
        config["MUSEAIKA_TORCHSERVE_MANAGEMENT_URL"] = "http://torchserve:9000"
    elif breakage == "no gpu":
        del torchserve["resources"]["limits"]["nvidia.com/gpu"]
    elif breakage == "bad probe":
        torchserve["readinessProbe"]["httpGet"]["path"] = "/models"
    elif breakage == "missing configmap":
        find("Deployment", "worker")["spec"]["template"]["spec"]["containers"][0]["envFrom"][0] = {
            "configMapRef": {"name": "museaika-settings"}}
    elif breakage == "unknown setting":
        config["MUSEAIKA_TORCHSERVE_URL"] = "http://torchserve:8080"
    assert k8s_problems(docs) != []


def test_env_example_names_real_settings() -> None:
    values = parse_env_file(ENV_EXAMPLE.read_text())
    assert env_example_problems(values) == []
    assert PRODUCTION_REQUIRED <= SETTING_FIELDS
    for variable, reader in NON_SETTINGS_VARIABLES.items():
        assert variable in reader.read_text()


def test_env_example_check_catches_broken_copies() -> None:
    values = parse_env_file(ENV_EXAMPLE.read_text())
    misspelt = {**values, "MUSEAIKA_JWT_SECRETS": "x"}
    assert env_example_problems(misspelt) == ["MUSEAIKA_JWT_SECRETS is not a Settings field"]
    missing = {k: v for k, v in values.items() if k != "MUSEAIKA_S3_SECRET_KEY"}
    assert env_example_problems(missing) == ["MUSEAIKA_S3_SECRET_KEY is missing"]
    assert env_example_problems({**values, "MUSEAIKA_ENVIRONMENT": "development"}) != []
