"""The deployment files say what the code reads: every CRMASSIST_ variable that
docker-compose.yml sets or the README documents is a real setting, and the compose
environment builds valid production settings (PostgreSQL, a Qdrant server)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
VARIABLES = {f"CRMASSIST_{name.upper()}" for name in Settings.model_fields}


EXAMPLE = dict(
    line.split("=", 1)
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines()
    if line and not line.startswith("#")
)
"""The variables .env.example sets (the optional ones are commented out)."""
SECRET = re.compile(r"PASSWORD|API_KEY|_TOKEN$|SECRET")


def with_defaults(value: object) -> str:
    """`${NAME:-default}` as compose resolves it with NAME unset, and a required
    `${NAME:?message}` as it resolves it with .env copied from .env.example."""
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
    return re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: EXAMPLE[m.group(1)], value)


def test_compose_sets_only_real_settings_and_they_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    env = COMPOSE["services"]["crmassist"]["environment"]
    assert set(env) <= VARIABLES, f"unknown settings: {set(env) - VARIABLES}"
    for name in [n for n in os.environ if n.startswith("CRMASSIST_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, with_defaults(value))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert str(settings.qdrant_url).startswith("http://qdrant:6333")
    assert settings.llm == "offline"
    slack_off = settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value()
    assert slack_off  # empty means unset: Slack stays off until both secrets are given


def test_every_server_is_health_checked_and_the_app_waits_for_its_stores_and_setup() -> None:
    services = COMPOSE["services"]
    servers = {name: s for name, s in services.items() if s.get("restart") != "no"}
    assert set(servers) == {"postgres", "qdrant", "crmassist"}
    assert all("healthcheck" in service for service in servers.values())
    stores = {name: {"condition": "service_healthy"} for name in ("postgres", "qdrant")}
    assert services["setup"]["depends_on"] == stores
    done = {"condition": "service_completed_successfully"}
    assert services["crmassist"]["depends_on"] == {**stores, "setup": done}


def test_migrations_are_a_one_off_step_and_servers_never_migrate() -> None:
    services = COMPOSE["services"]
    assert "crmassist migrate" in " ".join(services["setup"]["command"])
    assert "migrate" not in " ".join(services["crmassist"]["command"])
    assert services["crmassist"]["environment"]["CRMASSIST_MIGRATE_ON_START"] == "false"
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "migrate" not in dockerfile.split("CMD", 1)[1]


def test_secrets_come_from_the_env_file_not_the_compose_file() -> None:
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET.search(key):  # a password or key is never written here, only referenced
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (name, key, value)
        url = str((service.get("environment") or {}).get("CRMASSIST_DATABASE_URL", ""))
        assert not url or "${POSTGRES_PASSWORD:?" in url, url
    app = COMPOSE["services"]["crmassist"]
    assert app["env_file"] == [{"path": ".env", "required": False}]
    example = (ROOT / ".env.example").read_text("utf-8")
    named = set(re.findall(r"^#? ?([A-Z_]+)=", example, flags=re.M))
    assert named - {"POSTGRES_PASSWORD"} <= VARIABLES, named - VARIABLES
    assert {n for n in VARIABLES if SECRET.search(n)} <= named  # every secret setting listed
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert ".env" in ignored


def test_the_image_is_built_in_stages_runs_unprivileged_and_caches_dependencies() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    stages = re.findall(r"^FROM .+ AS (\w+)$", dockerfile, flags=re.M)
    assert len(stages) >= 2, stages
    runtime = dockerfile.split(f"AS {stages[-1]}", 1)[1]
    assert re.search(r"^USER (?!root)\w+", runtime, flags=re.M)
    deps = dockerfile.split(f"AS {stages[0]}", 1)[1].split("FROM ", 1)[0]
    assert "COPY requirements.lock" in deps and "COPY src" not in deps  # code changes keep it
    assert "download.pytorch.org/whl/cpu" in deps


def test_the_readme_documents_every_setting_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    documented = set(re.findall(r"`(CRMASSIST_[A-Z_]+)`", readme))
    assert not VARIABLES - documented, f"undocumented: {VARIABLES - documented}"
    assert not documented - VARIABLES, f"not settings: {documented - VARIABLES}"


def test_the_slack_manifest_grants_what_the_bot_uses() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text("utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # mentions, DMs, /crm, replies, chart images, e-mail lookup of unmapped users
    needed = {"app_mentions:read", "im:history", "commands", "chat:write", "files:write"}
    assert needed | {"users:read", "users:read.email"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
    }
    interactivity = manifest["settings"]["interactivity"]  # buttons, modal, customer search
    urls = [
        interactivity["request_url"],
        interactivity["message_menu_options_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "log_to_crm"
