"""Named operators: who holds a token, which units it may see and act on, and whether it may act.

The configuration keeps each token only as its SHA-256 hash (`[[operators]]`); a token given
in a request is hashed and compared with every configured hash in constant time. The single
`[http] token` of earlier versions still works: it is the operator named "admin", all units.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator

from schemas.base import Model

ALL_UNITS = "*"
ADMIN = "admin"  # the name the single `[http] token` signs in under


class Role(StrEnum):
    """A viewer reads; an operator reads and acts (replay, release, split, merge, …)."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class OperatorEntry(Model):
    """One `[[operators]]` table of the configuration."""

    name: str = Field(min_length=1)
    token_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    units: tuple[str, ...] = (ALL_UNITS,)
    role: Role = Role.OPERATOR

    @field_validator("token_sha256")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


@dataclass(frozen=True)
class Operator:
    """Who a request's token belongs to. `units` None: every unit."""

    name: str
    units: frozenset[str] | None
    role: Role = Role.OPERATOR

    def sees(self, unit: str) -> bool:
        return self.units is None or unit in self.units

    @property
    def may_act(self) -> bool:
        return self.role is Role.OPERATOR


EVERYONE = Operator(ADMIN, None)  # no token configured: the API is open (loopback only)


def scope_of(units: Sequence[str]) -> frozenset[str] | None:
    """The units a configured list names; None (all) for an empty list or one holding "*"."""
    if not units or ALL_UNITS in units:
        return None
    return frozenset(units)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token: 32 bytes, URL-safe (it travels in a header and a `?token=`)."""
    return secrets.token_urlsafe(32)


class Operators:
    """The configured operators (and the single legacy token), resolved by token."""

    def __init__(self, entries: Iterable[OperatorEntry], legacy: SecretStr | None = None) -> None:
        self._known = [
            (e.token_sha256, Operator(e.name, scope_of(e.units), e.role)) for e in entries
        ]
        if legacy is not None:
            self._known.append((hash_token(legacy.get_secret_value()), EVERYONE))

    @property
    def required(self) -> bool:
        """Whether any token is configured (without one the API stays open on loopback)."""
        return bool(self._known)

    def resolve(self, token: str) -> Operator | None:
        """The operator holding `token`, None when no one does. Every hash is compared, each
        in constant time, so the answer's timing tells nothing of which came close."""
        given = hash_token(token).encode()
        found = None
        for digest, operator in self._known:
            if hmac.compare_digest(given, digest.encode()) and found is None:
                found = operator
        return found


def check_operators(entries: Sequence[OperatorEntry], unit_ids: Iterable[str]) -> list[str]:
    """Problems of the `[[operators]]` tables that need the units to see (Vietnamese / English)."""
    known = sorted(unit_ids)
    errors: list[str] = []
    names: set[str] = set()
    hashes: set[str] = set()
    for entry in entries:
        where = f"operators[{entry.name}]"
        if entry.name in names:
            errors.append(f"{where}.name: tên người vận hành bị trùng / duplicate operator name")
        if entry.token_sha256 in hashes:
            errors.append(f"{where}.token_sha256: mã này đã cấp cho người khác / token reused")
        names.add(entry.name)
        hashes.add(entry.token_sha256)
        for unit in entry.units:
            if unit != ALL_UNITS and unit not in known:
                errors.append(
                    f"{where}.units: đơn vị {unit!r} không có trong cấu hình / unknown unit"
                    f" (có / known: {', '.join(known) or '-'})"
                )
    return errors


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def operator_block(name: str, token: str, units: Sequence[str], role: Role) -> str:
    """The `[[operators]]` table to paste into the configuration for `token` (its hash only)."""
    listed = ", ".join(_toml_string(u) for u in (units or [ALL_UNITS]))
    lines = [
        "[[operators]]",
        f"name = {_toml_string(name)}",
        f'token_sha256 = "{hash_token(token)}"',
        f"units = [{listed}]",
    ]
    if role is not Role.OPERATOR:
        lines.append(f'role = "{role}"')
    return "\n".join(lines) + "\n"
