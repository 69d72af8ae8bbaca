"""One sender among many processes: a lease row taken and renewed with a conditional UPDATE.

Every API worker runs the scheduler; at each tick it tries the lease, and only the holder
works. Taking it is one statement, `UPDATE ... WHERE name = :n AND (holder = :me OR
expires_at < :now)`, atomic on SQLite and PostgreSQL alike; the first process ever
inserts the row (a racing insert loses on the primary key). A holder that stops renewing
(crashed, paused) loses the lease when it expires. Sends are also claimed row by row
(digest_sends, reminders), so even two holders at once could not send anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.domain.models import SchedulerLease


def wall_clock() -> datetime:
    """Leases are the software's own bookkeeping: they run on the wall clock."""
    return datetime.now(UTC)


class Lease:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        holder: str,
        ttl: timedelta,
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._sessions = sessions
        self.name = name
        self.holder = holder
        self._ttl = ttl
        self._now = now

    def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's lease runs."""
        now = self._now()
        table = SchedulerLease
        renew = (
            sa.update(table)
            .where(
                table.name == self.name,
                sa.or_(table.holder == self.holder, table.expires_at < now),
            )
            .values(
                holder=self.holder,
                expires_at=now + self._ttl,
                acquired_at=sa.case((table.holder == self.holder, table.acquired_at), else_=now),
            )
        )
        with self._sessions.begin() as session:
            if session.execute(renew.execution_options(synchronize_session=False)).rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with self._sessions.begin() as session:
                session.add(
                    SchedulerLease(
                        name=self.name,
                        holder=self.holder,
                        expires_at=now + self._ttl,
                        acquired_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            return False  # the row exists: someone else holds it
        return True

    def release(self) -> None:
        """Let another process take over at once (on shutdown)."""
        table = SchedulerLease
        with self._sessions.begin() as session:
            session.execute(
                sa.update(table)
                .where(table.name == self.name, table.holder == self.holder)
                .values(expires_at=self._now())
                .execution_options(synchronize_session=False)
            )
