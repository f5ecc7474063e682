"""Form input of the limits pages, read into the admin API's own bodies (LimitCreate,
LimitUpdate, RelaxationCreate, ExemptionCreate) so a form is checked exactly as the API checks
its body. Cost amounts are typed in currency units and sent in micro-units, as the API takes
them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from tokengate.catalog.schemas import MICROS
from tokengate.dashboard.forms import N_, form_text
from tokengate.dashboard.pages.models_input import decimal_of, from_validation, invalid
from tokengate.errors import Locale
from tokengate.quotas.schemas import (
    ExemptionCreate,
    LimitCreate,
    LimitPublic,
    LimitUpdate,
    RelaxationCreate,
)

LABELS = {
    "target": N_("Applies to"),
    "scope": N_("Applies to"),
    "scope_id": N_("Applies to"),
    "metric": N_("Metric"),
    "window": N_("Window"),
    "amount": N_("Amount"),
    "mode": N_("When exceeded"),
    "model": N_("Model"),
    "thresholds": N_("Alert thresholds"),
    "auto_block": N_("Auto-block"),
    "priority_share": N_("Priority share"),
    "limit_id": N_("Limit"),
    "multiplier_percent": N_("Multiplier"),
    "multiplier": N_("Multiplier"),
    "start_hour": N_("From hour"),
    "end_hour": N_("Until hour"),
    "reason": N_("Reason"),
}
_SPLIT = re.compile(r"[\s,]+")
T = TypeVar("T", bound=BaseModel)


def _target(form: FormData) -> dict[str, object]:
    """``scope:id`` from the target menu (or ``scope`` and ``scope_id`` as the API names them)."""
    target = form_text(form, "target")
    if target is not None:
        scope, _, ident = target.partition(":")
        return {"scope": scope, "scope_id": ident}
    return {k: v for k in ("scope", "scope_id") if (v := form_text(form, k)) is not None}


def _number(form: FormData, name: str, locale: Locale) -> Decimal | None:
    text = form_text(form, name)
    value = decimal_of(text)
    if text is not None and value is None:
        raise invalid([(LABELS[name], N_("must be a number"), {})], locale)
    return value


def _amount(form: FormData, metric: str | None, locale: Locale) -> int | None:
    """Money in currency units for a cost limit (micro-units inside), else a whole count."""
    value = _number(form, "amount", locale)
    if value is None:
        return None
    if metric == "cost":
        return int((value * MICROS).to_integral_value())
    if value != value.to_integral_value():
        raise invalid([(LABELS["amount"], N_("must be a whole number"), {})], locale)
    return int(value)


def _thresholds(form: FormData, locale: Locale) -> list[str] | None:
    text = form_text(form, "thresholds")
    if text is None:
        return None
    parts = [p.removesuffix("%") for p in _SPLIT.split(text) if p]
    if not all(p.isdigit() for p in parts):
        raise invalid(
            [(LABELS["thresholds"], N_("must be percentages from 1 to 1000"), {})], locale
        )
    return parts


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) not in (None, "", "0", "false")


def limit_create(form: FormData, locale: Locale) -> LimitCreate:
    """The new-limit form as the API's create body."""
    metric = form_text(form, "metric")
    body: dict[str, object] = {
        **_target(form),
        "metric": metric,
        "window": form_text(form, "window"),
        "amount": _amount(form, metric, locale),
        "auto_block": _checked(form, "auto_block"),
    }
    for name in ("mode", "model", "priority_share"):
        if (value := form_text(form, name)) is not None:
            body[name] = value
    if (thresholds := _thresholds(form, locale)) is not None:
        body["thresholds"] = thresholds
    return _validated(LimitCreate, {k: v for k, v in body.items() if v is not None}, locale)


def limit_update(form: FormData, current: LimitPublic, locale: Locale) -> LimitUpdate:
    """The edit form as the API's update body: only what differs from the limit now."""
    wanted: dict[str, object] = {
        "amount": _amount(form, current.metric, locale),
        "mode": form_text(form, "mode"),
        "thresholds": _thresholds(form, locale),
        "priority_share": form_text(form, "priority_share"),
    }
    if current.scope in ("user", "key"):
        wanted["auto_block"] = _checked(form, "auto_block")
    given = {k: v for k, v in wanted.items() if v is not None}
    update = _validated(LimitUpdate, given, locale)
    changed = {
        name for name in update.model_fields_set if getattr(update, name) != getattr(current, name)
    }
    return LimitUpdate.model_validate(update.model_dump(include=changed))


def relaxation_create(form: FormData, locale: Locale) -> RelaxationCreate:
    """The relaxation form (×N during local hours) as the API's body (N in percent)."""
    multiplier = _number(form, "multiplier", locale)
    percent = None if multiplier is None else int((multiplier * 100).to_integral_value())
    body = {
        "limit_id": form_text(form, "limit_id"),
        "multiplier_percent": percent,
        "start_hour": form_text(form, "start_hour"),
        "end_hour": form_text(form, "end_hour"),
    }
    return _validated(RelaxationCreate, {k: v for k, v in body.items() if v is not None}, locale)


def exemption_create(form: FormData, locale: Locale) -> ExemptionCreate:
    """The exemption form as the API's body."""
    body = {
        **_target(form),
        "metric": form_text(form, "metric"),
        "reason": form_text(form, "reason"),
    }
    return _validated(ExemptionCreate, {k: v for k, v in body.items() if v is not None}, locale)


def _validated(schema: type[T], body: Mapping[str, object], locale: Locale) -> T:
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        raise from_validation(exc, LABELS, locale) from None


def amount_text(limit: LimitPublic) -> str:
    """A limit's amount as its form field shows it: currency units for cost."""
    if limit.metric == "cost":
        return format((Decimal(limit.amount) / MICROS).normalize(), "f")
    return str(limit.amount)
