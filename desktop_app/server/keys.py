"""API keys: random, prefixed, shown once, stored as a hash, compared in constant time."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from desktop_app.core.errors import NotFoundError, ValidationError
from desktop_app.core.names import validate_project
from desktop_app.store.db import read_tx, write_tx

KEY_PREFIX = "adk"

_meta = MetaData()
api_keys = Table(
    "api_keys",
    _meta,
    Column("id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("owner", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)
api_key_roles = Table(
    "api_key_roles",
    _meta,
    Column("key_id", String(16), ForeignKey("api_keys.id"), primary_key=True),
    Column("project", String(260), primary_key=True),
    Column("role", String(16), nullable=False),
)


class Role(enum.IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValidationError(f"role {text!r} is not one of read, write, admin") from None


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a key, and what it may do in which project."""

    key_id: str
    name: str
    owner: bool
    roles: dict[str, Role]

    def role_in(self, project: str) -> Role | None:
        if self.owner:
            return Role.ADMIN
        return self.roles.get(project)

    def can(self, project: str, role: Role) -> bool:
        have = self.role_in(project)
        return have is not None and have >= role


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: never its secret."""

    id: str
    name: str
    owner: bool
    roles: dict[str, str]
    created_at: float
    revoked_at: float | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """API keys in the server's metadata database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with write_tx(engine) as conn:
            _meta.create_all(conn, checkfirst=True)

    def create(self, name: str, roles: Sequence[tuple[str, str]] = ()) -> tuple[str, KeyInfo]:
        """A new key: ``(the key, shown once, its info)``. No roles means an owner key."""
        if not name or len(name) > 128:
            raise ValidationError("give the key a name of 1 to 128 characters, e.g. --name alice")
        parsed = {validate_project(project): Role.parse(role) for project, role in roles}
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        with write_tx(self.engine) as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key_id,
                    name=name,
                    secret_sha256=_hash(secret),
                    owner=not parsed,
                    created_at=time.time(),
                )
            )
            for project, role in parsed.items():
                conn.execute(
                    insert(api_key_roles).values(
                        key_id=key_id, project=project, role=role.name.lower()
                    )
                )
        return f"{KEY_PREFIX}_{key_id}_{secret}", self.get(key_id)

    def get(self, key_id: str) -> KeyInfo:
        for info in self.list(include_revoked=True):
            if info.id == key_id:
                return info
        raise NotFoundError(f"no API key has the id {key_id!r}; `server list-keys` lists them")

    def list(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
            role_rows = conn.execute(select(api_key_roles)).all()
        roles: dict[str, dict[str, str]] = {}
        for row in role_rows:
            roles.setdefault(row.key_id, {})[row.project] = row.role
        return [
            KeyInfo(r.id, r.name, r.owner, roles.get(r.id, {}), r.created_at, r.revoked_at)
            for r in rows
            if include_revoked or r.revoked_at is None
        ]

    def revoke(self, key_id: str) -> KeyInfo:
        with write_tx(self.engine) as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        if done.rowcount == 0:
            raise NotFoundError(f"no active API key has the id {key_id!r}")
        return self.get(key_id)

    def delete_all(self) -> None:
        """Remove every key (tests)."""
        with write_tx(self.engine) as conn:
            conn.execute(delete(api_key_roles))
            conn.execute(delete(api_keys))

    def authenticate(self, key: str) -> Principal | None:
        """The principal of ``key``, or None for a malformed, unknown or revoked key."""
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret:
            return None
        with read_tx(self.engine) as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
            if row is None:
                _hash(secret)  # spend the same time as for a known id
                return None
            role_rows = conn.execute(
                select(api_key_roles).where(api_key_roles.c.key_id == key_id)
            ).all()
        if not hmac.compare_digest(_hash(secret), row.secret_sha256) or row.revoked_at:
            return None
        return Principal(
            key_id=row.id,
            name=row.name,
            owner=row.owner,
            roles={r.project: Role.parse(r.role) for r in role_rows},
        )
