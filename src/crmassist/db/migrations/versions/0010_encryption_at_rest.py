"""encryption at rest: contacts' name, e-mail and phone and the vault's values

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:30:00.000000

The values become Fernet ciphertexts under the key from CRMASSIST_SECRET_KEY (see
crmassist.privacy.crypto; the engine carries it), in place, in this revision's one
transaction. Ciphertexts are longer than the values, so PostgreSQL's columns become
TEXT (SQLite never enforced the lengths, and rebuilding `contacts` there would trip
the foreign keys of notes and tickets). A contact is found by e-mail through a new
keyed blind index; the vault's unkeyed sha256 digests become their HMAC, so a stolen
database no longer confirms a guessed phone number by hashing it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from crmassist.domain.encrypted import Cipher, cipher_of

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_WIDTHS = {"name": (200, False), "email": (320, True), "phone": (64, True)}
_CONTACTS = sa.table(
    "contacts",
    sa.column("id"),
    sa.column("name"),
    sa.column("email"),
    sa.column("phone"),
    sa.column("email_index"),
)
_VAULT = sa.table(
    "pii_tokens",
    sa.column("token"),
    sa.column("entity_type"),
    sa.column("digest"),
    sa.column("value"),
)
_PII = (_CONTACTS.c.id, _CONTACTS.c.name, _CONTACTS.c.email, _CONTACTS.c.phone)
_BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for name, (width, nullable) in _WIDTHS.items():
            op.alter_column(
                "contacts",
                name,
                type_=sa.Text(),
                existing_type=sa.String(length=width),
                existing_nullable=nullable,
            )
    op.add_column("contacts", sa.Column("email_index", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_contacts_email_index"), "contacts", ["email_index"])
    contacts = bind.execute(sa.select(*_PII)).all()
    vault = bind.execute(sa.select(_VAULT.c.token, _VAULT.c.digest, _VAULT.c.value)).all()
    if not contacts and not vault:
        return  # nothing to encrypt, so no key is needed yet
    cipher = cipher_of(bind)
    _update(bind, _CONTACTS, "id", [_sealed_contact(cipher, *row) for row in contacts])
    _update(
        bind,
        _VAULT,
        "token",
        [{"pk": t, "digest": cipher.index(d), "value": cipher.encrypt(v)} for t, d, v in vault],
    )


def downgrade() -> None:
    from crmassist.privacy.entities import EntityType
    from crmassist.privacy.normalise import digest, normalise

    bind = op.get_bind()
    contacts = bind.execute(sa.select(*_PII)).all()
    vault = bind.execute(sa.select(_VAULT.c.token, _VAULT.c.entity_type, _VAULT.c.value)).all()
    if contacts or vault:
        cipher = cipher_of(bind)
        opened = [
            {"pk": cid, **{k: _open(cipher, v) for k, v in zip(_WIDTHS, values, strict=True)}}
            for cid, *values in contacts
        ]
        _update(bind, _CONTACTS, "id", opened)
        rows = []
        for token, etype, sealed in vault:
            value, kind = cipher.decrypt(sealed), EntityType(etype)
            rows.append(
                {"pk": token, "digest": digest(kind, normalise(kind, value)), "value": value}
            )
        _update(bind, _VAULT, "token", rows)
    op.drop_index(op.f("ix_contacts_email_index"), table_name="contacts")
    with op.batch_alter_table("contacts", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("email_index")
    if bind.dialect.name != "sqlite":
        for name, (width, nullable) in _WIDTHS.items():
            op.alter_column(
                "contacts",
                name,
                type_=sa.String(length=width),
                existing_type=sa.Text(),
                existing_nullable=nullable,
            )


def _sealed_contact(
    cipher: Cipher, cid: str, name: str, email: str | None, phone: str | None
) -> dict[str, Any]:
    return {
        "pk": cid,
        "name": cipher.encrypt(name),
        "email": _seal(cipher, email),
        "phone": _seal(cipher, phone),
        "email_index": cipher.blind_index("EMAIL", email) if email else None,
    }


def _seal(cipher: Cipher, value: str | None) -> str | None:
    return None if value is None else cipher.encrypt(value)


def _open(cipher: Cipher, value: str | None) -> str | None:
    return None if value is None else cipher.decrypt(value)


def _update(
    bind: sa.Connection, table: sa.TableClause, key: str, rows: list[dict[str, Any]]
) -> None:
    """Rows of {"pk": key, column: value, …}, set by primary key in batches."""
    if not rows:
        return
    statement = table.update().where(table.c[key] == sa.bindparam("pk"))
    for start in range(0, len(rows), _BATCH):
        bind.execute(statement, rows[start : start + _BATCH])
