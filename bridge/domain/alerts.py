"""Alerts as the store keeps them: one row per alert (a road down, dead letters or quarantine
growing, status 01 owed past its deadline), and what each channel was told of it.

An alert has episodes: it starts (`firing`), lasts, and ends (`ended_at`). Each channel is
told the start once, reminded while it lasts and told the end once (bridge/alerts/state.py);
keeping that here makes a restart tell nobody twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    """What an alert is about."""

    ROAD_DOWN = "road_down"  # a source or sink failing (or never reached) for too long
    DEAD_LETTERS = "dead_letters"  # deliveries given up, more than when last all clear
    QUARANTINE = "quarantine"  # records held apart, more than when last all clear
    STATUS_OVERDUE = "status_overdue"  # a 01 "received" not sent by the next working day's end
    OUTGOING_OVERDUE = "outgoing_overdue"  # a recipient of ours silent (no 01) past that deadline


@dataclass(frozen=True)
class Told:
    """What one channel was told of an alert's current episode."""

    started: bool = False
    last_at: float = 0.0  # epoch seconds of the start or the last reminder sent
    ended: bool = False


@dataclass(frozen=True)
class AlertRecord:
    """One alert's durable state. `since` is when its current (or last) episode began (ISO)."""

    key: str
    kind: AlertKind
    firing: bool
    since: str
    ended_at: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    told: Mapping[str, Told] = field(default_factory=dict)
