"""Service settings: per-service prefix first, then the project-wide name, then the default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from pydantic import SecretStr, ValidationError
from trainer_service.config import TrainerServiceSettings
from tutor_api.config import TutorApiSettings
from tutorlab.settings import DEFAULT_PORTS, GLOBAL_ENV, ServiceSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "tutor-api": TutorApiSettings,
    "eval-service": EvalServiceSettings,
    "data-service": DataServiceSettings,
    "trainer-service": TrainerServiceSettings,
}
PREFIXES = ("TUTOR_API_", "EVAL_SERVICE_", "DATA_SERVICE_", "TRAINER_SERVICE_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TutorLab variable from the outer environment, and ./ is a fresh directory."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(PREFIXES) or upper in GLOBAL_ENV.values() or upper == "PORT":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_default_port_per_service(service: str) -> None:
    assert SETTINGS[service]().port == DEFAULT_PORTS[service]


def test_default_ports_are_the_documented_ones() -> None:
    assert {name: SETTINGS[name]().port for name in SETTINGS} == {
        "tutor-api": 8000,
        "eval-service": 8001,
        "data-service": 8002,
        "trainer-service": 8003,
    }


def test_port_is_overridden_by_the_service_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAL_SERVICE_PORT", "9101")
    monkeypatch.setenv("PORT", "5555")  # honcho sets PORT for every process: never used
    assert EvalServiceSettings().port == 9101
    assert DataServiceSettings().port == 8002
    assert TutorApiSettings().port == 8000


def test_explicit_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_API_PORT", "9100")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///env.db")
    settings = TutorApiSettings(port=9200, database_url="sqlite+aiosqlite:///arg.db")
    assert settings.port == 9200
    assert settings.database_url == "sqlite+aiosqlite:///arg.db"


def test_port_out_of_range_is_rejected_naming_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_SERVICE_PORT", "70000")
    with pytest.raises(ValidationError) as caught:
        TrainerServiceSettings()
    assert [e["loc"] for e in caught.value.errors()] == [("port",)]


def test_service_database_url_wins_over_project_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://shared@db/tutorlab")
    monkeypatch.setenv("EVAL_SERVICE_DATABASE_URL", "postgresql+asyncpg://eval@db/eval")
    assert EvalServiceSettings().resolved_database_url == "postgresql+asyncpg://eval@db/eval"
    for other in ("tutor-api", "data-service", "trainer-service"):
        settings = SETTINGS[other]()
        assert settings.resolved_database_url == "postgresql+asyncpg://shared@db/tutorlab"


def test_redis_url_and_queue_prefix_fall_back_to_project_wide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert DataServiceSettings().redis_url == "redis://localhost:6379/0"
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/3")
    monkeypatch.setenv("TUTORLAB_QUEUE_PREFIX", "staging")
    monkeypatch.setenv("DATA_SERVICE_REDIS_URL", "redis://other:6379/1")
    assert DataServiceSettings().redis_url == "redis://other:6379/1"
    assert EvalServiceSettings().redis_url == "redis://redis:6379/3"
    assert EvalServiceSettings().queue_name == "staging:eval-service"
    assert TrainerServiceSettings().queue_name == "staging:trainer-service"


def test_default_database_is_a_sqlite_file_named_for_the_service(clean_env: Path) -> None:
    for name, cls in SETTINGS.items():
        settings = cls()
        assert settings.data_dir == Path("var")
        expected = (clean_env / "var" / f"{name}.db").resolve()
        assert settings.resolved_database_url == f"sqlite+aiosqlite:///{expected}"


def test_data_dir_from_project_wide_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUTORLAB_DATA_DIR", str(tmp_path / "shared-data"))
    monkeypatch.setenv("TRAINER_SERVICE_DATA_DIR", str(tmp_path / "trainer-data"))
    tutor = TutorApiSettings()
    assert tutor.data_dir == tmp_path / "shared-data"
    assert tutor.resolved_database_url.endswith(f"{tmp_path}/shared-data/tutor-api.db")
    trainer = TrainerServiceSettings()
    assert trainer.resolved_database_url.endswith(f"{tmp_path}/trainer-data/trainer-service.db")


def test_api_key_project_wide_and_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TutorApiSettings().api_key is None
    monkeypatch.setenv("TUTORLAB_API_KEY", "project-key-123")
    monkeypatch.setenv("EVAL_SERVICE_API_KEY", "eval-key-456")
    assert TutorApiSettings().api_key_value() == "project-key-123"
    assert DataServiceSettings().api_key_value() == "project-key-123"
    assert EvalServiceSettings().api_key_value() == "eval-key-456"


def test_empty_api_key_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORLAB_API_KEY", "")
    settings = TutorApiSettings()
    assert settings.api_key is None
    assert settings.api_key_value() is None


def test_api_key_is_secret_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "tl-very-secret-7781"
    monkeypatch.setenv("TUTORLAB_API_KEY", key)
    settings = EvalServiceSettings()
    assert isinstance(settings.api_key, SecretStr)
    assert settings.api_key_value() == key
    for text in (repr(settings), str(settings), str(settings.model_dump()), repr(settings.api_key)):
        assert key not in text
    assert key not in settings.model_dump_json()


def test_other_services_urls_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = EvalServiceSettings()
    assert defaults.tutor_api_url == "http://127.0.0.1:8000"
    assert defaults.data_service_url == "http://127.0.0.1:8002"
    monkeypatch.setenv("TUTOR_API_URL", "http://tutor:8000/")
    monkeypatch.setenv("EVAL_SERVICE_TUTOR_API_URL", "https://tutor.internal:9443")
    assert EvalServiceSettings().tutor_api_url == "https://tutor.internal:9443"
    assert TrainerServiceSettings().tutor_api_url == "http://tutor:8000"  # trailing / removed


@pytest.mark.parametrize("bad", ["tutor:8000", "ftp://tutor:8000", "localhost"])
def test_non_http_service_url_is_rejected_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("TUTOR_API_URL", bad)
    with pytest.raises(ValidationError) as caught:
        EvalServiceSettings()
    (error,) = caught.value.errors()
    assert error["loc"] == ("tutor_api_url",)
    assert "http" in error["msg"]


def test_tutor_api_retry_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    default = TutorApiSettings().retry_policy()
    assert (default.max_attempts, default.base_delay_s) == (4, 0.5)
    monkeypatch.setenv("TUTOR_API_MODEL_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("TUTOR_API_MODEL_DEADLINE_S", "30")
    policy = TutorApiSettings().retry_policy()
    assert policy.max_attempts == 2
    assert policy.deadline_s == 30.0
    monkeypatch.setenv("TUTOR_API_MODEL_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError) as caught:
        TutorApiSettings()
    assert caught.value.errors()[0]["loc"] == ("model_max_attempts",)
