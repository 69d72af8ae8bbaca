"""An LLM judge for groundedness, used when a model is configured (`--model openai`).

It sees what the assistant's model saw — pseudonymised sources and answer — never raw
personal data. Its verdict is reported next to the deterministic checks, not instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

MAX_SOURCES = 12_000


class Judge:
    def __init__(self, model: BaseChatModel, prompts_dir: Path) -> None:
        self.model = model
        self.prompt = Template((prompts_dir / "judge.md").read_text(encoding="utf-8"))

    def groundedness(self, sources: str, answer: str) -> tuple[float, list[str]]:
        """1.0 when every claim is supported; unreadable verdicts count as unsupported."""
        text = self.prompt.substitute(sources=sources[:MAX_SOURCES], answer=answer)
        reply = str(self.model.invoke([HumanMessage(text)]).content)
        match = re.search(r"\{.*\}", reply, re.DOTALL)
        try:
            verdict = json.loads(match.group()) if match else {}
        except json.JSONDecodeError:
            verdict = {}
        if "supported" not in verdict:
            return 0.0, [f"unreadable verdict: {reply[:200]}"]
        unsupported = [str(u) for u in verdict.get("unsupported") or []]
        return (1.0 if verdict["supported"] and not unsupported else 0.0), unsupported
