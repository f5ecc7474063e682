"""Tables of the SQL ledger backend.

A limit's metric and window never change (changing them makes a new limit), so one limit's
counters never mix units or window kinds. ``ledger_counters`` holds one row per limit and
calendar (or lifetime) window; a rolling-minute limit keeps there only a lock row at
``window_start`` = 1970-01-01 and its usage in ``ledger_buckets``, one row per second.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import JSON, BigInteger, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, UTCDateTime
from tokengate.ledger.types import Metric, Mode


class HoldRecord(TypedDict):
    """One stored share of a reservation (times as epoch seconds)."""

    limit_id: int
    rolling: bool
    window_start: int
    window_end: int
    metric: Metric
    mode: Mode
    amount: int
    thresholds: list[int]
    reserved: int


class LedgerCounter(Base):
    """Used, reserved and overage of one limit in one calendar or lifetime window."""

    __tablename__ = "ledger_counters"

    limit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    overage: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerBucket(Base):
    """Used, reserved and overage of one rolling-minute limit in one second."""

    __tablename__ = "ledger_buckets"

    limit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    second: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    overage: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerReservation(Base):
    """A live reservation: what it holds on which counters, until settled, released or swept."""

    __tablename__ = "ledger_reservations"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    charge_tokens: Mapped[int] = mapped_column(BigInteger)
    charge_cost_micros: Mapped[int] = mapped_column(BigInteger)
    charge_requests: Mapped[int] = mapped_column(BigInteger)
    holds: Mapped[list[HoldRecord]] = mapped_column(JSON)


class LedgerSettlement(Base):
    """A settled request id, kept for a while so a repeated settle is recognised."""

    __tablename__ = "ledger_settlements"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


LEDGER_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[name]
    for name in ("ledger_counters", "ledger_buckets", "ledger_reservations", "ledger_settlements")
)
