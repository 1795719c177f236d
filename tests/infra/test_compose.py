"""docker-compose.yml cannot run here (no Docker engine): check it agrees with the settings."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import (
    GrafanaSettings,
    IntakeSettings,
    KafkaSettings,
    ManagersSettings,
    NotifySettings,
    PipelineSettings,
    PrivacySettings,
    RedisSettings,
)
from infra.broker import KAFKA_VERSION

ROOT = Path(__file__).parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _published(service: dict[str, Any]) -> dict[int, int]:
    return {int(p.split(":")[1]): int(p.split(":")[0]) for p in service.get("ports", [])}


def test_the_stack_has_every_service() -> None:
    assert set(_compose()["services"]) == {"kafka", "redis", "worker", "intake", "managers", "prometheus", "grafana"}


def test_kafka_is_the_pinned_apache_image_in_kraft_mode() -> None:
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"


def test_host_ports_match_the_settings_defaults(monkeypatch: Any) -> None:
    for name in (
        "MIROIR_KAFKA_BOOTSTRAP_SERVERS",
        "MIROIR_REDIS_URL",
        "MIROIR_WEB_PORT",
        "MIROIR_INTAKE_PORT",
        "MIROIR_MANAGERS_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    services = _compose()["services"]
    kafka_port = KafkaSettings().first_server[1]
    assert _published(services["kafka"])[kafka_port] == kafka_port
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"EXTERNAL://localhost:{kafka_port}" in advertised
    redis_port = RedisSettings().port
    assert _published(services["redis"])[redis_port] == redis_port
    web_port = PipelineSettings().web_port
    assert _published(services["worker"])[web_port] == web_port
    intake_port = IntakeSettings().port
    assert _published(services["intake"])[intake_port] == intake_port
    managers_port = ManagersSettings().port
    assert _published(services["managers"])[managers_port] == managers_port
    assert len({kafka_port, redis_port, web_port, intake_port, managers_port}) == 5


@pytest.mark.parametrize("service", ["worker", "intake", "managers"])
def test_the_services_reach_kafka_and_redis_by_their_compose_names(service: str) -> None:
    services = _compose()["services"]
    env = services[service]["environment"]
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    internal = next(listener for listener in advertised if listener.startswith("INTERNAL://"))
    assert env["MIROIR_KAFKA_BOOTSTRAP_SERVERS"] == internal.removeprefix("INTERNAL://")
    assert env["MIROIR_REDIS_URL"].startswith("redis://redis:")
    # Every MIROIR_* variable a service gets is one a settings class reads.
    known = (
        {f"MIROIR_KAFKA_{f.upper()}" for f in KafkaSettings.model_fields}
        | {f"MIROIR_REDIS_{f.upper()}" for f in RedisSettings.model_fields}
        | {f"MIROIR_GRAFANA_{f.upper()}" for f in GrafanaSettings.model_fields}
        | {f"MIROIR_{f.upper()}" for f in PipelineSettings.model_fields}
        | {f"MIROIR_INTAKE_{f.upper()}" for f in IntakeSettings.model_fields}
        | {f"MIROIR_MANAGERS_{f.upper()}" for f in ManagersSettings.model_fields}
        | {f"MIROIR_NOTIFY_{f.upper()}" for f in NotifySettings.model_fields}
        | {f"MIROIR_PRIVACY_{f.upper()}" for f in PrivacySettings.model_fields}
    )
    assert set(env) <= known
    # One key for the privacy hashes: an erasure made through the managers' app binds the intake and worker.
    assert env["MIROIR_PRIVACY_SECRET"] == "${MIROIR_PRIVACY_SECRET:-}"


def test_the_worker_and_the_intake_listen_where_they_are_published() -> None:
    services = _compose()["services"]
    assert int(services["worker"]["environment"]["MIROIR_WEB_PORT"]) == PipelineSettings().web_port
    intake = services["intake"]
    assert intake["environment"]["MIROIR_INTAKE_HOST"] == "0.0.0.0"  # reachable from outside its container
    assert int(intake["environment"]["MIROIR_INTAKE_PORT"]) == IntakeSettings().port
    assert intake["command"] == ["miroir", "intake", "serve"]
    assert intake["build"] == services["worker"]["build"]  # the same image
    assert "COPY services ./services" in (ROOT / "Dockerfile").read_text()


def test_the_managers_app_listens_where_it_is_published_from_the_same_image() -> None:
    services = _compose()["services"]
    managers = services["managers"]
    assert managers["environment"]["MIROIR_MANAGERS_HOST"] == "0.0.0.0"
    assert int(managers["environment"]["MIROIR_MANAGERS_PORT"]) == ManagersSettings().port
    assert managers["command"] == ["miroir", "managers", "serve"]
    assert managers["build"] == services["worker"]["build"]


def test_the_image_holds_every_package_the_commands_import() -> None:
    """pyproject's packages are installed from what the Dockerfile copied: a folder left out is a
    command that fails in the container (config/ was, and every command imports it)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = [pattern.rstrip("*") for pattern in found["include"]]
    assert "config" in packages
    assert [p for p in packages if f"COPY {p} ./{p}" not in dockerfile] == []


def test_grafana_and_prometheus_mount_the_repo_config() -> None:
    services = _compose()["services"]
    for service in ("grafana", "prometheus"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            assert (ROOT / source).exists(), f"{service} mounts missing {source}"
    scrape = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"worker:{PipelineSettings().web_port}"]
