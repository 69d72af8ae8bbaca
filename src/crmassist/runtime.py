"""The composition root: builds every component from one Settings object, lazily.

Interfaces (CLI, API, Slack) hold a Runtime and ask it for what they need; nothing below
it reads settings or globals. Heavy parts (the embedding model, Presidio, the index) are
built on first use, so `crmassist --help` and small commands stay instant.

The runtime is the index's one owner in the process: every indexer it makes shares one
write lock, and notes logged through any interface are indexed by one worker thread that
drains the index outbox (`index_written`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from crmassist.access.audit import AuditLog
    from crmassist.agent.assistant import Assistant
    from crmassist.agent.planner.intents import IntentClassifier
    from crmassist.domain.clock import Clock
    from crmassist.domain.enums import SourceType
    from crmassist.ingest.indexer import Indexer
    from crmassist.ingest.outbox import IndexWorker
    from crmassist.privacy import Redactor
    from crmassist.retrieval.embeddings import E5Encoder, Encoder
    from crmassist.retrieval.search import Retriever
    from crmassist.retrieval.sparse import Bm25Encoder
    from crmassist.retrieval.store import VectorStore
    from crmassist.scheduler.service import ProactiveScheduler, Sender

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index_lock = threading.RLock()  # every index write in this process holds it
        self._worker: IndexWorker | None = None
        self._worker_guard = threading.Lock()

    @cached_property
    def clock(self) -> Clock:
        """The one clock: tools, imports, API defaults and Slack all read the time here."""
        from crmassist.domain.clock import clock_for

        return clock_for(self.settings.today)

    @cached_property
    def engine(self) -> sa.Engine:
        from crmassist.db import make_engine, upgrade_schema
        from crmassist.db.migrate import check_current
        from crmassist.privacy.crypto import bind, check_key

        engine = make_engine(self.settings.resolved_database_url)
        bind(engine, self.settings)  # first: a migration may encrypt rows with it
        if self.settings.migrate_on_start:
            upgrade_schema(engine)
        else:  # migrations are a one-off release step (`crmassist migrate`)
            check_current(engine)
        check_key(engine)  # the wrong key stops the start here, not a request later
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from crmassist.db import make_session_factory

        return make_session_factory(self.engine)

    @cached_property
    def audit(self) -> AuditLog:
        from crmassist.access.audit import AuditLog

        return AuditLog(self.sessions)

    @cached_property
    def encoder(self) -> Encoder:
        from crmassist.retrieval.embeddings import build_encoder

        settings = self.settings
        log.info(
            "loading embedding model %s (%s)", settings.embedding_model, settings.embedding_backend
        )
        return build_encoder(
            settings.embedding_model,
            settings.resolved_cache_dir,
            batch_size=settings.embedding_batch_size,
            backend=settings.embedding_backend,
        )

    @cached_property
    def multilingual(self) -> E5Encoder:
        """The encoder that puts English and Chinese in one space: the intent classifier's,
        and the knowledge base's second vector (the configured model may be English-only)."""
        from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder

        if self.settings.embedding_model == E5_MODEL:
            return self.encoder  # type: ignore[return-value]
        return E5Encoder()

    @cached_property
    def intents(self) -> IntentClassifier:
        """The offline planner's intent classifier: always the multilingual encoder (one
        space for English and Chinese), trained once and cached under the data dir."""
        from crmassist.agent.planner.intents import IntentClassifier
        from crmassist.retrieval.embeddings import E5_MODEL

        return IntentClassifier.build(
            self.settings.prompts_dir,
            self.multilingual,
            E5_MODEL,
            self.settings.resolved_cache_dir,
            self.settings.intent_confidence,
        )

    @cached_property
    def sparse(self) -> Bm25Encoder:
        from crmassist.retrieval.sparse import Bm25Encoder

        return Bm25Encoder()

    @cached_property
    def store(self) -> VectorStore:
        from crmassist.retrieval.store import open_store

        return open_store(self.settings)

    @cached_property
    def redactor(self) -> Redactor:
        from crmassist.privacy import build_redactor

        people = self.known_names()
        redactor = build_redactor(self.settings, self.sessions, people)
        return redactor.with_public_values(self.public_strings(people))

    def public_strings(self, people: Sequence[str]) -> set[str]:
        """Strings that are never personal data here: published contact points, and the
        CRM's own names of things: customer organisations (the NER model sometimes takes
        "Acme" for a person), products and knowledge-base titles ("FlowGuard Industrial"
        looks like a given name and a surname to the name model)."""
        from crmassist.domain.models import Account, KnowledgeArticle, Opportunity, Order

        with self.sessions() as session:
            names = [
                *session.scalars(sa.select(Account.name)),
                *session.scalars(sa.select(Opportunity.product).distinct()),
                *session.scalars(sa.select(Order.product).distinct()),
                *session.scalars(sa.select(KnowledgeArticle.product).distinct()),
                *session.scalars(sa.select(KnowledgeArticle.title)),
            ]
        names = [n for n in names if n]
        words = {w.strip(".,&():") for name in names for w in name.split()}
        their_words = {w for name in people for w in name.split()}
        things = set(names) | {w for w in words if len(w) >= 3 and w[:1].isupper()}
        return self.published_contact_points() | (things - their_words)

    def published_contact_points(self) -> set[str]:
        """Emails and phone numbers printed in public KB articles: published, so not private."""
        from crmassist.domain.enums import Audience
        from crmassist.domain.models import KnowledgeArticle
        from crmassist.privacy.detectors import contact_points

        with self.sessions() as session:
            texts = session.scalars(
                sa.select(KnowledgeArticle.body).where(KnowledgeArticle.audience == Audience.PUBLIC)
            )
            return contact_points(texts)

    def known_names(self) -> list[str]:
        """Names the CRM knows (users and contacts): the redactor catches them in any text."""
        from crmassist.domain.models import Contact, User

        with self.sessions() as session:
            users = session.scalars(sa.select(User.name)).all()
            contacts = session.scalars(sa.select(Contact.name)).all()
        return [*users, *contacts]

    def refresh_known_names(self) -> None:
        """After an import: new contacts must be redacted from the next text on, and newly
        published contact points are no longer treated as personal."""
        if "redactor" in self.__dict__:
            people = self.known_names()
            updated = self.redactor.with_known_names(people)
            self.__dict__["redactor"] = updated.with_public_values(self.public_strings(people))

    def indexer(self) -> Indexer:
        from crmassist.ingest.chunking import Chunker
        from crmassist.ingest.indexer import Indexer

        chunker = Chunker(
            self.encoder.token_length,
            self.settings.chunk_tokens,
            self.settings.chunk_overlap_tokens,
        )
        return Indexer(
            self.sessions,
            self.store,
            self.encoder,
            self.sparse,
            self.redactor,
            chunker,
            lock=self._index_lock,
            multilingual=self.multilingual,
        )

    def claim_index(self) -> None:
        """Take the index for this process before anything is written, or fail in one line
        naming the process that holds it (the embedded engine serves one process)."""
        self.store.claim()

    @contextmanager
    def index_writes_held(self) -> Iterator[None]:
        """Inside, nothing in this process writes the index or its SQL record (a backup
        copies both as one); logged notes wait in the outbox meanwhile."""
        with self._index_lock:
            yield

    def index_worker(self) -> IndexWorker:
        """The one thread that indexes logged records; started on first use (the service
        starts it at start-up, so notes left owed by an earlier run are indexed too)."""
        with self._worker_guard:
            if self._worker is None:
                from crmassist.ingest.outbox import IndexWorker

                self._worker = IndexWorker(self.indexer, self.sessions)
                self._worker.start()
            return self._worker

    def index_written(self, only: Mapping[SourceType, Collection[str]]) -> bool:
        """Records were just written with their outbox rows: have them indexed, waiting up
        to `index_wait_seconds` for it. Never raises: what is not indexed yet stays owed
        in the outbox and is retried. True if they are searchable now."""
        wait = self.settings.index_wait_seconds
        indexed = self.index_worker().wait_for(only, wait)
        if not indexed and wait > 0:
            names = ", ".join(f"{kind.value}/{rid}" for kind, ids in only.items() for rid in ids)
            log.warning("%s saved, not searchable yet: the index worker retries", names)
        return indexed

    def index_health(self) -> str:
        """ "ok", or what is wrong with the index, in one line (`/readyz`)."""
        return self.indexer().check()

    def retriever(self) -> Retriever:
        from crmassist.errors import IndexMissing
        from crmassist.retrieval.search import Retriever

        if not self.store.exists():
            raise IndexMissing()
        return Retriever(
            self.store,
            self.encoder,
            self.sparse,
            self.redactor,
            self.audit,
            multilingual=self.multilingual,
            kb_languages=self.kb_languages(),
        )

    def kb_languages(self) -> list[str]:
        """The languages the knowledge base's articles are written in."""
        from crmassist.domain.models import KnowledgeArticle

        with self.sessions() as session:
            return list(session.scalars(sa.select(KnowledgeArticle.lang).distinct()))

    def assistant(self, model: BaseChatModel | None = None) -> Assistant:
        """The assistant on this runtime's services; `model` replaces the configured one."""
        from crmassist.agent.assistant import Assistant

        return Assistant(
            self.settings,
            self.sessions,
            self.audit,
            self.clock,
            redactor=lambda: self.redactor,
            retriever=self.retriever,
            index_records=self.index_written,
            model=model,
            intents=lambda: self.intents,
        )

    def scheduler(self, sender: Sender) -> ProactiveScheduler:
        """The proactive assistant (digests, reminders) sending through `sender`."""
        from crmassist.scheduler.service import ProactiveScheduler

        return ProactiveScheduler(
            self.settings, self.sessions, self.audit, self.clock, lambda: self.redactor, sender
        )

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if "store" in self.__dict__:
            self.store.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
