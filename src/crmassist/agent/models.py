"""The chat model behind the agent, chosen by configuration alone (`CRMASSIST_LLM`)."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from crmassist.agent.planner.compose import Phrases
from crmassist.agent.planner.intents import IntentClassifier
from crmassist.agent.planner.model import OfflinePlanner, Planner
from crmassist.agent.planner.pipeline_reading import Vocabulary
from crmassist.errors import CrmassistError
from crmassist.settings import Settings


class ModelNotConfigured(CrmassistError):
    pass


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
            timeout=settings.llm_timeout_seconds,
            max_retries=2,
        )
    if settings.llm == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model,
            base_url=base_url,
            temperature=settings.llm_temperature,
        )
    raise ModelNotConfigured(f"unknown model kind {settings.llm!r}")
