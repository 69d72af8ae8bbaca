"""The chat model behind the agent, chosen by configuration alone (`CRMASSIST_LLM`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    ModelRequest,
    ModelResponse,
    ModelRetryMiddleware,
)
from langchain_core.language_models import BaseChatModel

from crmassist.agent.planner.compose import Phrases
from crmassist.agent.planner.intents import IntentClassifier
from crmassist.agent.planner.model import OfflinePlanner, Planner
from crmassist.agent.planner.pipeline_reading import Vocabulary
from crmassist.errors import CrmassistError
from crmassist.settings import Settings


class ModelNotConfigured(CrmassistError):
    pass


class ModelUnavailable(CrmassistError):
    """The configured model did not answer (unreachable, timed out, overloaded) after the
    bounded retries: one line for the CLI, a 503 for the API."""


CONNECT_TIMEOUT_S = 5.0
"""A model server that does not accept the connection within this is down, not slow."""


def offline_planner(
    settings: Settings, intents: IntentClassifier, lexicon: list[str], vocabulary: Vocabulary
) -> OfflinePlanner:
    """The deterministic planner; `intents` reads what a request means, `lexicon` holds the
    customer and contact names the asker may see (contacts as pseudonyms), `vocabulary` the
    names pipeline questions filter on."""
    planner = Planner(intents, Phrases(settings.prompts_dir), lexicon, vocabulary)
    return OfflinePlanner(planner=planner)


def remote_model(settings: Settings) -> BaseChatModel:
    """An OpenAI-compatible endpoint (OpenAI, vLLM, DeepSeek, Qwen, ...) or Ollama."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    base_url = settings.llm_base_url or None  # an empty variable means "not set"
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        if not key and not base_url:
            raise ModelNotConfigured(
                "CRMASSIST_LLM=openai needs CRMASSIST_LLM_API_KEY or CRMASSIST_LLM_BASE_URL"
            )
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=base_url,
            api_key=key or "not-needed",
            temperature=settings.llm_temperature,
            timeout=_timeout(settings),
            max_retries=settings.llm_max_retries,  # the OpenAI client's own backoff
        )
    if settings.llm == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model,
            base_url=base_url,
            temperature=settings.llm_temperature,
            client_kwargs={"timeout": _timeout(settings)},
        )
    raise ModelNotConfigured(f"unknown model kind {settings.llm!r}")


def _timeout(settings: Settings) -> Any:
    import httpx

    total = settings.llm_timeout_seconds
    return httpx.Timeout(total, connect=min(total, CONNECT_TIMEOUT_S))


def remote_middleware(settings: Settings) -> list[AgentMiddleware[Any, Any]]:
    """Around every call to a remote model: bounded retries with backoff where the client
    has none of its own (Ollama's; OpenAI's client retries itself), then what is still a
    failure to answer becomes `ModelUnavailable`. Listed innermost last."""
    where = settings.llm_base_url or f"the default {settings.llm} endpoint"
    retries: list[AgentMiddleware[Any, Any]] = []
    if settings.llm == "ollama" and settings.llm_max_retries:
        retries.append(
            ModelRetryMiddleware(
                max_retries=settings.llm_max_retries,
                retry_on=is_transient,
                on_failure="error",
                initial_delay=0.5,
                max_delay=8.0,
            )
        )
    return [Unavailable(f"{settings.llm} model {settings.llm_model!r} at {where}"), *retries]


def is_transient(exc: Exception) -> bool:
    """Worth another try: no connection, a time-out, or the server overloaded (429, 5xx)."""
    import httpx

    if isinstance(exc, httpx.TransportError | TimeoutError | ConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def _unavailable_reason(exc: Exception) -> str | None:
    """Why the model did not answer, in a few words, or None for any other error."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return f"unreachable ({_cause(exc)})"
    if is_transient(exc):
        return f"answered {getattr(exc, 'status_code', '?')}"
    return None


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


class Unavailable(AgentMiddleware[Any, Any]):
    """A model that does not answer is one line, not a client library's traceback."""

    def __init__(self, describe: str) -> None:
        super().__init__()
        self.describe = describe

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        try:
            return handler(request)
        except Exception as exc:
            if (reason := _unavailable_reason(exc)) is None:
                raise
            raise ModelUnavailable(
                f"the {self.describe} {reason}; check CRMASSIST_LLM_BASE_URL, or try again"
            ) from exc
