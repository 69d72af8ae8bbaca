"""The offline planner: a real LangChain chat model that plans tool calls without an LLM.

It reads the conversation like any chat model does — system context, the user's message,
the tool calls it already made this turn and their results — and answers with the next
tool call or, when the plan is done, with an answer composed from the tool results.
Being stateless over the messages, it runs inside the same agent graph as a real model.
It never guesses: an unreadable request gets "I did not understand" and what it can do.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field

from crmassist.agent.planner import compose, pipeline_reading, understanding
from crmassist.agent.planner.compose import Phrases
from crmassist.agent.planner.describe import Describer
from crmassist.agent.planner.intents import HELP, NONE, IntentClassifier, Reading
from crmassist.agent.planner.pipeline_reading import Vocabulary
from crmassist.domain.language import detect_lang
from crmassist.privacy.entities import TOKEN_PATTERN
from crmassist.retrieval.glossary import coverage as weighted_coverage
from crmassist.retrieval.glossary import glossary
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.scheduler.reminders import has_time_of_day

CONTEXT_PREFIX = "Conversation context"
_NOTE_HEADER = re.compile(
    r"^(?P<channel>[A-Z][a-z]+) — (?P<account>.+?)(?: with (?P<contact>.+?))?, "
    r"(?P<day>\d{4}-\d{2}-\d{2})"
)
_ACCOUNT = re.compile(r"\[account (?P<id>[^\]\s]+)\]")
_CONTACT = re.compile(r"\[contact (?P<id>[^\]\s]+)\]")
_TODAY = re.compile(r"Today is (\d{4}-\d{2}-\d{2})")
_USER = re.compile(r"You are helping (\S+)")
_CHOSEN = re.compile(r"^The user chose the reading: (\w+)\.$", re.MULTILINE)
_TERMS = Bm25Encoder()  # the search index's own tokenizer: stems, stop words, Chinese words
KB_SUPPORT = 0.34
"""A knowledge-base answer needs at least this share of the question's terms (customer
names aside) in the article it quotes: a question no article is about gets asked back."""
UNSURE_KB_SUPPORT = 0.5
"""What an article must hold of a question whose reading was unsure to answer it."""
NOTES_SHOWN = 5
"""Notes an answer lists; the one holding most of the question's terms leads."""
_LAST_PIPELINE = re.compile(r"^Last pipeline query: (\{.*\})$", re.MULTILINE)

NEEDS_CUSTOMER = {"customer_overview", "open_tickets", "draft_follow_up", "log_interaction"}
MAY_NAME_CUSTOMER = {
    "search_interactions",
    "churn_risk",
    "create_task",
    "list_tasks",
    "customer_value",
    "lifecycle_history",
}
MAY_NAME_CUSTOMER |= {"set_reminder"}
READ_ORDERS = ("customer_segments", "customer_value")
"""Intents whose tools rank customers by their orders: they know no deal stage."""
WRITES_ON_REPORT = ("log_interaction",)
"""Intents that write what the user reports: never the reading of a question."""


def context_message(
    today: date, user_id: str, role: str, focus: dict[str, str | None], intent: str | None = None
) -> SystemMessage:
    """The per-turn context every model gets, in words a model reads and a parser can too.
    `intent` is the reading the user picked from a clarification's choices."""
    lines = [f"{CONTEXT_PREFIX}: Today is {today.isoformat()}. You are helping {user_id} ({role})."]
    if focus.get("account_id"):
        lines.append(f"Current customer: {focus['account_name']} [account {focus['account_id']}].")
    if focus.get("contact_id"):
        lines.append(f"Current contact: {focus['contact_name']} [contact {focus['contact_id']}].")
    if focus.get("pipeline"):
        lines.append(f"Last pipeline query: {focus['pipeline']}")
    if intent:
        lines.append(f"The user chose the reading: {intent}.")
    return SystemMessage("\n".join(lines))


@dataclass(frozen=True)
class Turn:
    """The planner's view of the conversation at one model call."""

    request: str
    lang: str
    today: date
    user_id: str
    account_id: str | None
    contact_id: str | None
    calls: list[tuple[str, dict[str, Any], Any, bool]]
    """(tool name, arguments, parsed result, failed) for each tool call made this turn."""
    last_pipeline: dict[str, Any] | None = None
    """The previous pipeline question's arguments, for follow-ups that refine it."""
    chosen: str | None = None
    """The reading the user picked from a clarification, if this turn answers one."""
    previous: str | None = None
    """The conversation's previous request: a prior for short follow-ups."""
    reading: Reading | None = None
    """What the planner took the request to mean (set once per step)."""

    def result_of(self, tool: str) -> Any:
        for name, _, result, failed in reversed(self.calls):
            if name == tool and not failed:
                return result
        return None

    def failed(self, tool: str) -> bool:
        return any(name == tool and failed for name, _, _, failed in self.calls)

    @property
    def failure(self) -> str | None:
        if self.calls and self.calls[-1][3]:
            return str(self.calls[-1][2])
        return None


def read_turn(messages: Sequence[BaseMessage]) -> Turn:
    last_human = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    context = "\n".join(
        str(m.content)
        for m in messages
        if isinstance(m, SystemMessage) and CONTEXT_PREFIX in str(m.content)
    )
    request = str(messages[last_human].content).strip()
    earlier = [m for m in messages[:last_human] if isinstance(m, HumanMessage)]
    results = {
        m.tool_call_id: (m.content, m.status == "error")
        for m in messages[last_human:]
        if isinstance(m, ToolMessage)
    }
    calls = []
    for message in messages[last_human:]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                content, failed = results.get(call["id"] or "", ("", True))
                calls.append((call["name"], call["args"], _parse(content, failed), failed))
    today = _TODAY.search(context)
    user = _USER.search(context)
    account = _ACCOUNT.search(context)
    contact = _CONTACT.search(context)
    last_pipeline = _LAST_PIPELINE.search(context)
    return Turn(
        request=request,
        lang="zh" if understanding.is_chinese(request) else "en",
        today=date.fromisoformat(today.group(1)) if today else date.today(),
        user_id=user.group(1) if user else "",
        account_id=account.group("id") if account else None,
        contact_id=contact.group("id") if contact else None,
        calls=calls,
        last_pipeline=json.loads(last_pipeline.group(1)) if last_pipeline else None,
        chosen=chosen.group(1) if (chosen := _CHOSEN.search(context)) else None,
        previous=str(earlier[-1].content).strip() if earlier else None,
    )


def _parse(content: Any, failed: bool) -> Any:
    text = content if isinstance(content, str) else json.dumps(content)
    if failed:
        return text.removeprefix("Error: ")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class Clarification:
    """A final answer that asks back: the question, and the readings to pick from."""

    text: str
    choices: list[dict[str, str]] = field(default_factory=list)
    """Each: `label` (in the asker's language), `message` (the request), `intent`."""


Step = tuple[str, dict[str, Any]] | str | Clarification
"""The next tool call (name, arguments), the final answer's text, or a question back."""


class Planner:
    """Decides the next step of a turn from the request and the results so far."""

    def __init__(
        self,
        intents: IntentClassifier,
        phrases: Phrases,
        lexicon: list[str],
        vocabulary: Vocabulary,
    ) -> None:
        self.intents = intents
        self.phrases = phrases
        self.lexicon = lexicon
        self.vocabulary = vocabulary
        self._mentions: dict[str, understanding.Mention | None] = {}

    def _mention(self, text: str) -> understanding.Mention | None:
        """The customer `text` names; fuzzy matching over the whole lexicon is done once
        per text, however many steps and checks of a turn ask."""
        if text not in self._mentions:
            self._mentions[text] = understanding.find_mention(text, self.lexicon)
        return self._mentions[text]

    def next_step(self, turn: Turn, tools: set[str]) -> Step:
        say = self._sayer(turn.lang)
        if turn.failure is not None and not self._second_source_failed(turn):
            return say("tool_error", error=turn.failure)
        turn = self._restated(turn)
        turn = replace(turn, reading=self._read(turn))
        assert turn.reading is not None
        intent = turn.reading.intent
        if self._reads_as_pipeline(turn, intent, unsure=intent in (None, NONE)):
            intent = "pipeline_query"
        if intent in (None, NONE, "help") and self._about_an_article(turn):
            intent = "search_knowledge"
        if intent == NONE and understanding.is_fragment(turn.request):
            return self._clarify(turn, turn.reading, exclude=(HELP,), floor=0.0)
        if intent in (None, NONE, *READ_ORDERS) and self._looks_up_a_person(turn):
            intent = "find_customer"
        if intent in (None, NONE, "pipeline_query") and self._about_a_customer(turn, intent):
            intent = "search_interactions"  # answered only if the notes hold it (below)
        if intent is None and self._briefing_on_a_customer(turn):
            intent = "customer_overview"
        if intent is None and "search_knowledge" in turn.reading.likeliest():
            intent = "search_knowledge"  # answered only if an article holds it (below)
        if intent is None:
            return self._clarify(turn, turn.reading)
        if intent == NONE:
            return say("not_understood")
        if intent == "help":
            return say("help")
        if intent == "create_task" and has_time_of_day(turn.request):
            intent = "set_reminder"  # a clock time: a message then, not a to-do for the day
        plan: Callable[[Turn, str | None], Step] = getattr(self, f"_{intent}")
        account = self._account(turn, intent)
        if isinstance(account, str) and account.startswith("!") and intent != "search_knowledge":
            return account[1:]
        if isinstance(account, str) and account.startswith("?"):
            return ("find_customer", {"name": account[1:]})
        step = plan(turn, account)
        if isinstance(step, tuple) and step[0] not in tools:
            return say("tool_error", error=f"the tool {step[0]} is not available")
        return step

    @staticmethod
    def _restated(turn: Turn) -> Turn:
        """ "用中文再说一遍", "same in English please": the previous request again, answered
        in the language asked for (its tools run again: the answer is made, not translated)."""
        asked = understanding.language_asked(turn.request)
        if asked is None or not turn.previous:
            return turn
        if not understanding.asks_only_for_a_language(turn.request):
            return turn
        return replace(turn, request=turn.previous, lang=asked, previous=None)

    def _about_an_article(self, turn: Turn) -> bool:
        """A request that quotes an article's title ("how do I handle this: Price list?")
        is about that article, however unsure its reading (or close to "help" it lands):
        the knowledge base's own bar still decides whether it is answered."""
        return understanding.names_an_article(turn.request, self.vocabulary.articles)

    def _looks_up_a_person(self, turn: Turn) -> bool:
        """A request, read as nothing certain or as a ranking of customers by their orders
        (which takes no person), that names one of the asker's contacts and no customer,
        with a look-up among its likely readings ("which account is <PERSON_…> at",
        "who is <PERSON_…>, which customer"): who the person is, and where, is the look-up."""
        assert turn.reading is not None
        mention = self._mention(turn.request)
        if mention is None or not TOKEN_PATTERN.fullmatch(mention.name):
            return False
        return "find_customer" in turn.reading.likeliest(n=3, floor=0.05, exclude=(NONE,))

    def _about_a_customer(self, turn: Turn, intent: str | None) -> bool:
        """A question that names a customer but reads as nothing certain (or as a pipeline
        question with nothing of the pipeline in it) is looked up in that customer's notes
        first: what happened with one customer is what notes hold, and whether they hold it
        is measured, not guessed (`_unsupported`)."""
        if intent == "pipeline_query" and pipeline_reading.speaks_of_deals(
            turn.request, self.vocabulary, turn.today
        ):
            return False
        return understanding.asks_a_question(turn.request) and bool(self._mention(turn.request))

    def _briefing_on_a_customer(self, turn: Turn) -> bool:
        """Not a question, naming one customer, with their overview among the likely
        readings ("prep notes for Sierra Nevada", "青岛海景大酒店的客户资料"): the overview
        is the brief, and it holds what the other likely readings would show of that
        customer (latest notes, open tickets, deals); a write is never guessed."""
        assert turn.reading is not None
        if understanding.asks_a_question(turn.request) or self._mention(turn.request) is None:
            return False
        return "customer_overview" in turn.reading.likeliest(exclude=(NONE,))

    def _unsupported(
        self, turn: Turn, notes: list[dict[str, Any]], one_customer: bool
    ) -> Step | None:
        """For a question read as nothing certain (or as an empty pipeline question): the
        notes found answer it only when one holds enough of its words; otherwise it is
        asked back, declined or run as a pipeline question, as it would have been. Notes
        of the one customer the question names need less: they are about the right
        customer already, and notes paraphrase ("what did Grace decide" is answered by
        "approved"), so one of the question's own words there is enough."""
        reading = turn.reading
        if reading is None or reading.intent not in (None, NONE, "pipeline_query"):
            return None
        held = self._coverage(turn, notes, NOTES_SHOWN) if notes else 0.0
        if held >= KB_SUPPORT or (one_customer and held > 0):
            return None
        if reading.intent == "pipeline_query":
            return self._pipeline_query(turn, None)
        if reading.intent is None:
            return self._clarify(turn, reading)
        return self.phrases.say(turn.lang, "not_understood")

    def _read(self, turn: Turn) -> Reading:
        """The request's reading; a reading the user chose stands. An unsure reading of a
        short follow-up ("what about last month?") leans on the previous request's, when
        that one is still among this one's likely readings."""
        if turn.chosen in self.intents.names:
            return Reading.chosen(turn.chosen)
        if (commanded := understanding.commanded_intent(turn.request)) in self.intents.names:
            return Reading.chosen(commanded)
        reading = self.intents.read(turn.request)
        reading = reading.without(understanding.intents_without_their_words(turn.request))
        if understanding.asks_a_question(turn.request):
            reading = reading.without(WRITES_ON_REPORT)
        if reading.intent is not None or not turn.previous:
            return reading
        blended = reading.blend(self.intents.read(turn.previous))
        plausible = blended.best in reading.likeliest(n=3, floor=0.05, exclude=(NONE,))
        return blended if blended.intent is not None and plausible else reading

    def _clarify(
        self, turn: Turn, reading: Reading, exclude: Sequence[str] = (), floor: float = 0.08
    ) -> Step:
        """Ask back with the two or three likeliest readings (above `floor`), or say what I
        can do when no reading is likely at all."""
        options = reading.likeliest(floor=floor, exclude=(NONE, *exclude))
        if not options:
            return self.phrases.say(turn.lang, "not_understood")
        labels = [self.intents.label(name, turn.lang) for name in options]
        listed = labels[0]
        if len(labels) > 1:
            last = self.phrases.say(turn.lang, "clarify_or", option=labels[-1])
            listed = self.phrases.say(turn.lang, "clarify_sep").join(labels[:-1]) + last
        choices = [
            {"label": label, "message": turn.request, "intent": name}
            for name, label in zip(options, labels, strict=True)
        ]
        return Clarification(self.phrases.say(turn.lang, "clarify", options=listed), choices)

    def _sayer(self, lang: str) -> Callable[..., str]:
        return lambda key, **values: self.phrases.say(lang, key, **values)

    # -- customers --------------------------------------------------------------------------

    def _account(self, turn: Turn, intent: str) -> str | None:
        """The account id to act on; "!text" is a final answer (ambiguous or not found)."""
        say = self._sayer(turn.lang)
        mention = self._mention(turn.request)
        if mention is None and (phrase := self._unknown_customer(turn, intent)):
            found = turn.result_of("find_customer")
            if found is None:
                return f"?{phrase}"
            return (
                "!" + say("no_customer", name=phrase) if not found else str(found[0]["account_id"])
            )
        if mention is None:
            if intent in NEEDS_CUSTOMER and turn.account_id is None:
                return "!" + say("which_customer", detail="")
            return turn.account_id if intent in NEEDS_CUSTOMER | MAY_NAME_CUSTOMER else None
        found = turn.result_of("find_customer")
        if found is None:
            return None  # the plan's first step will look the mention up
        if not found:
            return "!" + say("no_customer", name=mention.name)
        tied = [m for m in found if found[0]["score"] - m["score"] < 8]
        if len(tied) > 1:
            if turn.account_id in {m["account_id"] for m in tied}:
                return turn.account_id  # "arjun" of several: the customer we talk about
            options = ", ".join(f"{m['account_name']} ({m['account_id']})" for m in found[:5])
            return "!" + say("ambiguous", name=mention.name, options=options)
        return str(found[0]["account_id"])

    def _lookup(self, turn: Turn) -> Step | None:
        """First step when the request names a customer not yet looked up."""
        mention = self._mention(turn.request)
        if mention is not None and turn.result_of("find_customer") is None:
            return ("find_customer", {"name": mention.name})
        return None

    def _unknown_customer(self, turn: Turn, intent: str) -> str | None:
        """A named customer the asker cannot see: look it up (it will come back empty) so
        the answer is "no customer you can see", not a question or someone else's data."""
        if intent not in NEEDS_CUSTOMER or turn.account_id is not None:
            return None
        return next(iter(understanding.named_phrases(turn.request)), None)

    # -- one method per intent: the plan, then the answer ------------------------------------

    def _search_knowledge(self, turn: Turn, account: str | None) -> Step:
        question = understanding.spelled_as(self._knowledge_question(turn), self._title_words)
        turn = replace(turn, request=question)
        results = turn.result_of("search_knowledge")
        if results is None:
            return ("search_knowledge", {"query": turn.request})
        if (notes := self._customer_notes_instead(turn, results)) is not None:
            return notes
        if not results:
            return self.phrases.say(turn.lang, "kb_none")
        results = self._answering_first(turn, results)
        if not self._kb_holds(turn, results) and turn.reading is not None:
            return self._clarify(turn, turn.reading, exclude=("search_knowledge",))
        wanted = None if self._same_language(turn, results[0]) else self._translations(turn)
        extract = compose.best_sentences(turn.request, results, wanted=wanted)
        return self.phrases.say(turn.lang, "kb_intro") + "\n" + extract.markdown()

    @functools.cached_property
    def _title_words(self) -> frozenset[str]:
        """The words of the article titles the asker may read: what typos are fixed to."""
        titles = " ".join(self.vocabulary.articles).lower()
        return frozenset(re.findall(r"[a-z]{5,}", titles))

    def _knowledge_question(self, turn: Turn) -> str:
        """A knowledge-base follow-up that leans on the question before it ("customer has an
        E2 leak, what do we do" / "what's the response target for that"; "E5是什么故障" /
        "多久能自动重启"): asked with that question's words too. It leans when it points back
        ("that", "它"), or, in Chinese, which drops what the sentence is about, when it
        drops the code the previous question named."""
        previous = turn.previous
        if not previous or self.intents.classify(previous) != "search_knowledge":
            return turn.request
        chinese = understanding.is_chinese(turn.request)
        dropped_code = chinese and bool(_codes(previous)) and not _codes(turn.request)
        if dropped_code or understanding.points_back(turn.request):
            return f"{previous}\n{turn.request}"
        return turn.request

    def _kb_holds(self, turn: Turn, results: list[dict[str, Any]]) -> bool:
        """The articles answer the question: they hold enough of its terms, and when the
        reading was unsure (the knowledge base one likely reading among others), most of
        them and more than one: the evidence then decides instead of a question back."""
        if turn.reading is None or turn.reading.intent is not None:
            return self._coverage(turn, results) >= KB_SUPPORT
        wanted = len(self._wanted_terms(turn))
        return wanted >= 2 and self._coverage(turn, results) >= UNSURE_KB_SUPPORT

    def _answering_first(self, turn: Turn, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The knowledge base ranks each language apart and takes them in turns, the
        question's own first. When the first article holds too few of the question's words
        to answer, the other language's first is read instead if it holds more of them and
        enough to answer (through the dictionary: a translation is weaker evidence than the
        word itself, so it never overrules an article that answers in the question's own
        language, and a question neither answers stays in its own).
        Before any of that, an article naming every code the question names ("E2", "PF-10")
        goes before one that does not, in the question's language if one is: "how do I fix
        error E2?" is not answered by E3's article."""
        codes = _codes(turn.request)
        if codes and not codes <= _codes(_text_of(results[0])):
            naming = [r for r in results if codes <= _codes(_text_of(r))]
            own = [r for r in naming if self._same_language(turn, r)]
            if named := (own or naming)[:1]:
                results = [*named, *(r for r in results if r is not named[0])]
        first = results[0]
        held = self._held(turn, first)
        if held >= KB_SUPPORT:
            return results
        other = next((r for r in results if _lang_of(r) != _lang_of(first)), first)
        other_held = self._held(turn, other)
        best = other if other_held > held and other_held >= KB_SUPPORT else first
        return [best, *(r for r in results if r is not best)]

    def _coverage(self, turn: Turn, results: list[dict[str, Any]], first: int = 2) -> float:
        """The share of the question's terms (customer names aside: "why is Acme a
        champion?" is not about pumps) found in the best of the first results: two
        articles, or the notes an answer shows (it leads with the one holding most)."""
        return max((self._held(turn, r) for r in results[:first]), default=0.0)

    def _held(self, turn: Turn, result: dict[str, Any]) -> float:
        """The share of the question's words in one result, rare words weighing more;
        across languages, a word is held when one of its dictionary translations is."""
        across = not self._same_language(turn, result)
        names = _TERMS.terms(mention.name) if (mention := self._mention(turn.request)) else set()
        groups = glossary().term_groups(turn.request, translate=across)
        asked = [g for g in groups if not g.terms <= names]
        return weighted_coverage(asked, self._terms_of(result))

    def _translations(self, turn: Turn) -> set[int]:
        return set().union(*(g.terms for g in glossary().term_groups(turn.request)))

    @staticmethod
    def _same_language(turn: Turn, result: dict[str, Any]) -> bool:
        return detect_lang(turn.request) == _lang_of(result)

    def _customer_notes_instead(self, turn: Turn, articles: list[dict[str, Any]]) -> Step | None:
        """A question that names a customer may be about what happened with them, not about
        the product: search that customer's notes too and answer from whichever source
        holds more of the question's terms, the notes when both hold as many."""
        if not understanding.asks_a_question(turn.request):
            return None
        if self._mention(turn.request) is None:
            return None
        notes = turn.result_of("search_interactions")
        if notes is None:
            return self._named_customers_notes(turn)
        if notes and self._coverage(turn, notes, NOTES_SHOWN) >= self._coverage(turn, articles):
            return self._search_interactions(turn, None)
        return None

    def _named_customers_notes(self, turn: Turn) -> Step | None:
        """The next step to the notes of the customer a question names, as a second source
        beside an article or a pipeline answer: look the customer up, then search their
        notes. None when the asker may not search notes or cannot see the customer: the
        first answer then stands."""
        if turn.failed("search_interactions"):
            return None
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        account = self._account(turn, "search_interactions")
        if account is None or account.startswith(("!", "?")):
            return None
        return self._search_interactions(turn, account)

    @staticmethod
    def _second_source_failed(turn: Turn) -> bool:
        """Notes searched beside a found article or an empty pipeline answer (see
        `_customer_notes_instead`, `_notes_when_no_deal`) that the asker's role may not
        search: the first answer still stands, not the refusal."""
        last = turn.calls[-1][0] if turn.calls else None
        first = turn.result_of("search_knowledge") or turn.result_of("pipeline_query")
        return last == "search_interactions" and bool(first)

    def _wanted_terms(self, turn: Turn) -> set[int]:
        wanted = _TERMS.terms(turn.request)
        if mention := self._mention(turn.request):
            wanted -= _TERMS.terms(mention.name)
        return wanted

    @staticmethod
    def _terms_of(result: dict[str, Any]) -> set[int]:
        """What a result says: its chunk and its title (a later chunk of "Error E2: leak
        detected" is still about error E2)."""
        return _TERMS.terms(f"{result.get('title', '')}\n{_text_of(result)}")

    def _find_customer(self, turn: Turn, account: str | None) -> Step:
        mention = self._mention(turn.request)
        name = mention.name if mention else _strip_command(turn.request)
        found = turn.result_of("find_customer")
        if found is None:
            return ("find_customer", {"name": name})
        if not found:
            return self.phrases.say(turn.lang, "no_customer", name=name)
        return self._describer(turn).matches(name, found)

    def _customer_overview(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        view = turn.result_of("customer_overview")
        if view is None:
            return ("customer_overview", {"account_id": account})
        return self._describer(turn).overview(view)

    def _open_tickets(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        view = turn.result_of("customer_overview")
        if view is None:
            return ("customer_overview", {"account_id": account})
        tickets = self._describer(turn).tickets(view)
        return f"{view['name']} [{view['account_id']}]: {tickets}"

    def _describer(self, turn: Turn) -> Describer:
        return Describer(self.phrases, turn.lang, turn.today)

    def _search_interactions(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        period = _period_phrase(turn)
        results = turn.result_of("search_interactions")
        if results is None:
            args: dict[str, Any] = {"query": turn.request, "k": 6}
            if account:
                args["account_id"] = account
            if period:
                args["period"] = period
            return ("search_interactions", args)
        if (unsure := self._unsupported(turn, results, account is not None)) is not None:
            return unsure
        return self._notes_answer(turn, results, period)

    def _notes_answer(self, turn: Turn, results: list[dict[str, Any]], period: str | None) -> str:
        say = self._sayer(turn.lang)
        scope = say("notes_scope_period", period=period) if period else ""
        if not results:
            return say("notes_none", scope=scope)
        shown = self._most_relevant_first(turn, results[:NOTES_SHOWN])
        lines = [f"{self._note_header(turn, r['snippet'])} {r['cite']}" for r in shown]
        lines[0] += "".join(f"\n  - {line}" for line in self._quoted(turn, shown[0], lines[0]))
        return say("notes_intro", count=len(results), scope=scope) + "\n" + compose.bullet(lines)

    def _quoted(self, turn: Turn, note: dict[str, Any], shown: str) -> list[str]:
        """The note's sentences that answer best, without its indexed header and without
        what its line already shows."""
        body = _NOTE_HEADER.sub("", _text_of(note), count=1)
        extract = compose.best_sentences(turn.request, [{**note, "text": body}], limit=2)
        return [s for s in extract.sentences if s.rsplit(" [", 1)[0].strip() not in shown]

    def _most_relevant_first(
        self, turn: Turn, results: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The note holding most of the question's terms leads, and its best sentences are
        quoted under it: the answer, not only where to find it."""
        wanted = self._wanted_terms(turn)
        best = max(
            range(len(results)), key=lambda n: (len(wanted & self._terms_of(results[n])), -n)
        )
        return [results[best], *results[:best], *results[best + 1 :]]

    def _note_header(self, turn: Turn, snippet: str) -> str:
        """A note's indexed header ("Call — Acme with Maria, 2026-10-26") in the asker's
        language; the note's own text stays as stored."""
        head = _NOTE_HEADER.match(snippet)
        if head is None:
            return snippet
        say, lang = self._sayer(turn.lang), turn.lang
        channel = self.phrases.label(lang, "channel", head["channel"].lower())
        who = say("note_with", contact=head["contact"]) if head["contact"] else ""
        day = self.phrases.day(lang, head["day"], turn.today)
        words = say(
            "note_header", channel=channel[:1].upper() + channel[1:], account=head["account"],
            who=who, day=day,
        )  # fmt: skip
        return words + snippet[head.end() :]

    def _log_interaction(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        logged = turn.result_of("log_interaction")
        reading = understanding.log_arguments(turn.request, turn.today)
        if logged is None:
            args: dict[str, Any] = {
                "account_id": account,
                "summary": reading.summary,
                "channel": reading.channel.value,
            }
            if reading.follow_up:
                args["follow_up"] = reading.follow_up
                found = turn.result_of("find_customer")
                name = found[0]["account_name"] if found else ""
                args["follow_up_title"] = self.phrases.say(
                    turn.lang, "follow_up_task", customer=name
                ).strip()
            if reading.when:
                args["when"] = reading.when
            return ("log_interaction", args)
        return self._describer(turn).logged(logged, reading.channel.value)

    def _draft_follow_up(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        draft = turn.result_of("draft_follow_up")
        if draft is None:
            # the request names the contact, if anyone ("rachel at pacific crest"): the
            # tool picks the account's contact of that name out of the words
            args: dict[str, Any] = {"account_id": account, "contact": turn.request}
            language = understanding.language_asked(turn.request)
            if language or turn.lang == "zh":
                args["language"] = language or "zh"
            return ("draft_follow_up", args)
        sources = ", ".join(f"[{s}]" for s in draft["sources"])
        intro = self.phrases.say(
            turn.lang, "draft_intro", contact=draft.get("to_contact") or "-", sources=sources
        )
        return f"{intro}\n\n{draft['subject']}\n\n{draft['body']}"

    def _pipeline_query(self, turn: Turn, account: str | None) -> Step:
        result = turn.result_of("pipeline_query")
        if result is None:
            refining = pipeline_reading.is_follow_up(turn.request)
            refining = refining or self.intents.classify(turn.request) is None
            return ("pipeline_query", self._pipeline_args(turn, refining))
        if not isinstance(result, dict):  # not the tool's JSON: nothing to read numbers from
            return self.phrases.say(turn.lang, "tool_error", error="unreadable pipeline result")
        if not result.get("deal_count") and (notes := self._notes_when_no_deal(turn)):
            return notes
        winner = pipeline_reading.wants_winner(turn.request)
        return compose.pipeline_answer(self.phrases, turn.lang, result, winner)

    def _notes_when_no_deal(self, turn: Turn) -> Step | None:
        """A question about one customer that no deal answers ("西湖国际酒店续约报价发了多少钱"
        with no proposal on record) may be answered by that customer's notes: they are
        searched, and answer when one holds any of the question's words."""
        mention = self._mention(turn.request)
        if mention is None or mention.name not in self.vocabulary.accounts:
            return None
        if not understanding.asks_a_question(turn.request):
            return None
        notes = turn.result_of("search_interactions")
        if notes is None:
            return self._named_customers_notes(turn)
        if notes and self._coverage(turn, notes, NOTES_SHOWN) > 0:
            return self._notes_answer(turn, notes, None)
        return None

    def _reads_as_pipeline(self, turn: Turn, intent: str | None, unsure: bool) -> bool:
        """Text the pipeline parser reads as a pipeline question: a measure only pipelines
        have ("win rate", "median", "sales cycle") where the intent reads as a knowledge
        question or not at all, or two things it filters or measures by in a knowledge
        question that names deals; a deal stage where it reads as a ranking of customers by
        their orders; or, unclassified, a follow-up of the last pipeline question
        ("only negotiation") or two things to count by ("lost in 2q 2017")."""
        reading = pipeline_reading.read_pipeline(turn.request, self.vocabulary, turn.today)
        pipeline_only = reading.get("metric") in pipeline_reading.PIPELINE_MEASURES
        knowledge = intent == "search_knowledge"
        if pipeline_only and (unsure or knowledge):
            return True
        if knowledge and len(reading) >= 2 and pipeline_reading.names_deals(turn.request):
            return True  # "how many dollars are sitting in my unclosed opps": no article's
        if intent in READ_ORDERS and "stages" in reading:
            return True  # "top 5 customers by won amount": deal stages are the pipeline's
        if turn.last_pipeline is not None and self._refines_pipeline(turn, reading):
            return True
        if not unsure:
            return False
        if turn.last_pipeline is not None:
            return bool(reading)
        return len(reading) >= 2

    def _refines_pipeline(self, turn: Turn, reading: dict[str, Any]) -> bool:
        """After a pipeline question, a request that reads as a refinement of it, however
        the classifier reads it: a follow-up naming deals' owners, stages or amounts ("and
        marcus?", "only omar's") but no customer, or one that only regroups ("按负责人分组")."""
        if pipeline_reading.only_regroups(reading):
            return True
        follow_up = pipeline_reading.is_follow_up(turn.request)
        return follow_up and bool(reading) and self._mention(turn.request) is None

    def _pipeline_args(self, turn: Turn, refining: bool) -> dict[str, Any]:
        """The question's reading; a follow-up ("only over 100k", "只看谈判阶段"), or a request
        that only regroups ("按负责人分组"), refines the conversation's last pipeline
        question. Empty when the text names nothing to filter."""
        reading = pipeline_reading.read_pipeline(turn.request, self.vocabulary, turn.today)
        refining = refining or pipeline_reading.only_regroups(reading)
        if reading and refining and turn.last_pipeline is not None:
            reading = pipeline_reading.refine(turn.last_pipeline, reading)
        mention = self._mention(turn.request)
        if "account_names" not in reading and mention and mention.name in self.vocabulary.accounts:
            reading["account_names"] = [mention.name]  # "the acme opportunities"
        return pipeline_reading.completed(reading)

    def _customer_segments(self, turn: Turn, account: str | None) -> Step:
        segments = turn.result_of("customer_segments")
        if segments is None:
            tier = understanding.tier_argument(turn.request)
            return ("customer_segments", {"tier": tier} if tier else {})
        return self._describer(turn).segments(segments)

    def _churn_risk(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        risks = turn.result_of("churn_risk")
        if risks is None:
            return ("churn_risk", {"account_id": account} if account else {"limit": 5})
        return self._describer(turn).churn(risks)

    def _customer_value(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        report = turn.result_of("customer_value")
        if report is None:
            limit = pipeline_reading.top_n(turn.request) or 10
            return ("customer_value", {"account_id": account} if account else {"limit": limit})
        return self._describer(turn).values(report, single=account is not None)

    def _lifecycle_history(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        moves = turn.result_of("lifecycle_history")
        stage = understanding.stage_argument(turn.request)
        period = None if account else _period_phrase(turn)
        if moves is None:  # one customer: the whole history, the stage asked about first
            args: dict[str, Any] = {"account_id": account} if account else {}
            if stage and not account:
                args["to_stage"] = stage
            if period:
                args["period"] = period
            return ("lifecycle_history", args)
        return self._describer(turn).lifecycle(moves, account is not None, stage, period)

    def _create_task(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        task = turn.result_of("create_task")
        if task is None:
            args: dict[str, Any] = understanding.task_arguments(turn.request, turn.today)
            if account and self._mention(turn.request):
                args["account_id"] = account
            return ("create_task", args)
        return self._describer(turn).task_created(task)

    def _set_reminder(self, turn: Turn, account: str | None) -> Step:
        if (lookup := self._lookup(turn)) is not None:
            return lookup
        reminder = turn.result_of("set_reminder")
        if reminder is None:
            args: dict[str, Any] = understanding.reminder_arguments(turn.request)
            if account and self._mention(turn.request):
                args["account_id"] = account
            return ("set_reminder", args)
        when = str(reminder["due_at"])[:16].replace("T", " ")
        return self.phrases.say(
            turn.lang, "reminder_set", id=reminder["id"], when=when,
            zone=reminder["time_zone"], text=reminder["text"],
        )  # fmt: skip

    def _list_tasks(self, turn: Turn, account: str | None) -> Step:
        tasks = turn.result_of("list_tasks")
        period = _period_phrase(turn)
        if tasks is None:
            return ("list_tasks", {"due": period} if period else {})
        return self._describer(turn).tasks(tasks, period)


def _period_phrase(turn: Turn) -> str | None:
    from crmassist.domain.periods import parse_period

    period = parse_period(turn.request, turn.today)
    return period.label if period else None


_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,3}-?[0-9]{1,4}(?![A-Za-z0-9])")
"""An error, part or model code as people write it: E2, PF-10, RO75, UV-12."""


def _codes(text: str) -> set[str]:
    return {m.group().upper().replace("-", "") for m in _CODE.finditer(text)}


def _text_of(result: dict[str, Any]) -> str:
    return str(result.get("text") or result.get("snippet", ""))


def _lang_of(result: dict[str, Any]) -> str:
    return detect_lang(_text_of(result))


_LOOK_UP = re.compile(
    r"^\s*(?:please\s+)?(?:find|look ?up|search(?: for)?|look for|who is"
    r"|查找|查一下|搜一下|搜索|找一下)"
    r"\s*(?:the\s+|a\s+)?(?:(?:customers?|accounts?|clients?|contacts?|客户)(?![a-z]))?"
    r"\s*(?:named|called|for)?\s*[:：]?\s*",
    re.IGNORECASE,
)


def _strip_command(text: str) -> str:
    """The name looked up, without the command around it ("search customers: dairy")."""
    return _LOOK_UP.sub("", text, count=1).strip(" ?？")


class OfflinePlanner(BaseChatModel):
    """`CRMASSIST_LLM=offline`: tool calls and answers from `Planner`, streamed word by word."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    planner: Planner = Field(exclude=True)
    tool_names: frozenset[str] = frozenset()

    @property
    def _llm_type(self) -> str:
        return "crmassist-offline-planner"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = frozenset(getattr(t, "name", None) or t["name"] for t in tools)
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._decide(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._decide(messages)
        if message.tool_calls:
            calls = AIMessageChunk(content="", tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ])  # fmt: skip
            yield ChatGenerationChunk(message=calls)
            return
        for piece in re.findall(r"\S+\s*|\s+", str(message.content)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        if message.additional_kwargs:  # a clarification's choices, once, after its words
            extra = AIMessageChunk(content="", additional_kwargs=message.additional_kwargs)
            yield ChatGenerationChunk(message=extra)

    def _decide(self, messages: list[BaseMessage]) -> AIMessage:
        turn = read_turn(messages)
        step = self.planner.next_step(turn, set(self.tool_names))
        if isinstance(step, str):
            return AIMessage(content=step)
        if isinstance(step, Clarification):
            return AIMessage(content=step.text, additional_kwargs={"choices": step.choices})
        name, args = step
        call_id = f"call_{len(turn.calls) + 1}_{name}"
        return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])
