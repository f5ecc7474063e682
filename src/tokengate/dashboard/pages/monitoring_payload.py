"""The monitoring charts' data as JSON (and CSV): values, their labels and every word of the
chart in the viewer's language and number formats, so the browser only draws."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates

from tokengate.dashboard import formats
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.pages.monitoring_params import CompareQuery, SeriesQuery
from tokengate.dashboard.reads.monitoring import Group, Marker, Named
from tokengate.dashboard.reads.series import Bucket, Grid, Metric
from tokengate.dashboard.viewer import Viewer

_BABEL = {"ko": "ko_KR", "en": "en_US"}
_TICK = timedelta(microseconds=1)
# a cell starting with one of these would be a formula in a spreadsheet
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Series:
    """What ``series.json`` answers, before it is written out."""

    query: SeriesQuery
    values: list[int]
    previous: Grid | None
    previous_values: list[int] | None
    markers: list[Marker]
    label: str | None


@dataclass(frozen=True)
class Comparison:
    """What ``compare.json`` and ``compare.csv`` answer, before they are written out."""

    query: CompareQuery
    start: datetime
    end: datetime
    groups: list[Group]
    names: dict[int, Named]
    many_tenants: bool


def metric_name(viewer: Viewer, metric: Metric) -> str:
    _ = translations(viewer.locale).gettext
    return {"tokens": _("Tokens"), "requests": _("Requests"), "cost": _("Cost")}[metric]


def bucket_name(viewer: Viewer, bucket: Bucket) -> str:
    _ = translations(viewer.locale).gettext
    return {
        "hour": _("Hour"),
        "day": _("Date"),
        "week": _("Week (from Monday)"),
        "month": _("Month"),
    }[bucket]


def window_name(viewer: Viewer, window: str) -> str:
    _ = translations(viewer.locale).gettext
    return {"day": _("Today"), "week": _("This week"), "month": _("This month")}[window]


def display(viewer: Viewer, metric: Metric, value: int) -> str:
    """A value as the viewer's language writes it (cost: micro-units as money)."""
    if metric == "cost":
        return formats.money(value, viewer.currency, viewer.locale)
    return formats.number(value, viewer.locale)


def label(viewer: Viewer, moment: datetime, bucket: Bucket, *, years: bool) -> str:
    """A bucket's name on the axis: its local start, as precise as the bucket."""
    local = moment.astimezone(ZoneInfo(viewer.timezone))
    where = _BABEL[viewer.locale]
    if bucket == "month":
        return dates.format_skeleton("yMMM", local, locale=where)
    day = dates.format_skeleton("yMMMd" if years else "MMMd", local, locale=where)
    if bucket == "hour":
        return f"{day} {dates.format_skeleton('Hm', local, locale=where)}"
    return day


def series_json(viewer: Viewer, found: Series) -> dict[str, Any]:
    """The body of ``series.json``."""
    _ = translations(viewer.locale).gettext
    query = found.query
    notes = {
        "hour": None,
        "day": _("This period has too many hours to show: shown by day."),
        "week": _("This period has too many points to show: shown by week."),
        "month": _("This period has too many points to show: shown by month."),
    }
    note = notes[query.grid.bucket] if query.asked is not None else None
    previous = None
    if found.previous is not None and found.previous_values is not None:
        previous = _block(viewer, query.metric, found.previous, found.previous_values)
    return {
        "metric": query.metric,
        "unit": "micros" if query.metric == "cost" else query.metric,
        "bucket": query.grid.bucket,
        "requested_bucket": query.asked,
        "preset": query.preset,
        "note": note,
        "timezone": viewer.timezone,
        "currency": viewer.currency,
        "locale": viewer.locale,
        "filter": {
            "tenant_id": query.filter.tenant_id,
            "team_id": query.filter.team_id,
            "user_id": query.filter.user_id,
            "label": found.label,
        },
        **_block(viewer, query.metric, query.grid, found.values),
        "previous": previous,
        "markers": [_marker(viewer, m, query.grid) for m in found.markers],
        "texts": _series_texts(viewer, query, found.label),
    }


def _block(viewer: Viewer, metric: Metric, over: Grid, values: list[int]) -> dict[str, Any]:
    tz = ZoneInfo(viewer.timezone)
    years = over.start.astimezone(tz).year != (over.end - _TICK).astimezone(tz).year
    total = sum(values)
    return {
        "start": over.start.astimezone(tz).isoformat(),
        "end": over.end.astimezone(tz).isoformat(),
        "points": [
            {
                "start": moment.astimezone(tz).isoformat(),
                "label": label(viewer, moment, over.bucket, years=years),
                "value": value,
                "display": display(viewer, metric, value),
            }
            for moment, value in zip(over.starts, values, strict=True)
        ],
        "total": total,
        "total_display": display(viewer, metric, total),
    }


def _marker(viewer: Viewer, marker: Marker, over: Grid) -> dict[str, Any]:
    _ = translations(viewer.locale).gettext
    texts = {
        "limit.create": _("Limit set"),
        "limit.update": _("Limit changed"),
        "limit.archive": _("Limit removed"),
        "grant.create": _("Extra allowance granted"),
        "relaxation.create": _("Limit relaxed for some hours"),
        "exemption.create": _("Exemption added"),
        "plan.update": _("Plan allowance changed"),
        "tenant.update": _("Tenant plan changed"),
    }
    parts = [marker.metric, marker.window]
    if marker.amount is not None:
        parts.append(formats.number(marker.amount, viewer.locale))
    if marker.plan:
        parts.append(marker.plan)
    return {
        "id": marker.id,
        "at": marker.at.isoformat(),
        "index": over.index_of(marker.at),
        "action": marker.action,
        "text": texts.get(marker.action, marker.action),
        "detail": " · ".join(p for p in parts if p),
        "when": formats.when(marker.at, viewer.timezone, viewer.locale),
    }


def _series_texts(viewer: Viewer, query: SeriesQuery, narrowed: str | None) -> dict[str, str]:
    _ = translations(viewer.locale).gettext
    metric = metric_name(viewer, query.metric)
    return {
        "current": _("This period"),
        "previous": _("Previous period"),
        "x_axis": bucket_name(viewer, query.grid.bucket),
        "y_axis": metric,
        "markers": _("Limit changes"),
        "total": _("Total"),
        "title": (
            _("%(metric)s of %(name)s") % {"metric": metric, "name": narrowed}
            if narrowed
            else metric
        ),
        "empty": _("No usage in this period."),
    }


def compare_json(viewer: Viewer, found: Comparison, keep: int) -> dict[str, Any]:
    """The body of ``compare.json``: the first ``keep`` teams or users, the rest summed."""
    _ = translations(viewer.locale).gettext
    head = found.groups[:keep]
    rest = found.groups[keep:]
    total = _sum(found.groups, 0)
    rows = [_row(viewer, found, g, total) for g in head]
    others = None
    if rest:
        summed = _sum(rest, -1)
        others = {
            **_numbers(viewer, summed, total),
            "count": len(rest),
            "label": _("Others (%(count)s)") % {"count": formats.number(len(rest), viewer.locale)},
        }
    tz = ZoneInfo(viewer.timezone)
    return {
        "by": found.query.by,
        "period": found.query.window,
        "period_label": window_name(viewer, found.query.window),
        "start": found.start.astimezone(tz).isoformat(),
        "end": found.end.astimezone(tz).isoformat(),
        "currency": viewer.currency,
        "rows": rows,
        "others": others,
        "total": _numbers(viewer, total, total),
        "texts": _compare_texts(viewer, found.query),
    }


def _row(viewer: Viewer, found: Comparison, group: Group, total: Group) -> dict[str, Any]:
    _ = translations(viewer.locale).gettext
    named = found.names.get(group.id)
    name = named.name if named else (_("No team") if group.id == 0 else f"#{group.id}")
    tenant = named.tenant if named else None
    shown = f"{name} · {tenant}" if found.many_tenants and tenant else name
    return {
        "id": group.id or None,
        "name": name,
        "tenant": tenant,
        "label": shown,
        **_numbers(viewer, group, total),
    }


def _numbers(viewer: Viewer, group: Group, total: Group) -> dict[str, Any]:
    share = round(group.tokens * 100 / total.tokens, 1) if total.tokens else 0.0
    return {
        "requests": group.requests,
        "tokens": group.tokens,
        "cost_micros": group.cost_micros,
        "share": share,
        "display": {
            "requests": formats.number(group.requests, viewer.locale),
            "tokens": formats.number(group.tokens, viewer.locale),
            "cost": formats.money(group.cost_micros, viewer.currency, viewer.locale),
            "share": formats.percent(share, viewer.locale),
        },
    }


def _sum(groups: Sequence[Group], ident: int) -> Group:
    return Group(
        ident,
        sum(g.requests for g in groups),
        sum(g.tokens for g in groups),
        sum(g.cost_micros for g in groups),
    )


def _compare_texts(viewer: Viewer, query: CompareQuery) -> dict[str, str]:
    _ = translations(viewer.locale).gettext
    return {
        "name": _("Team") if query.by == "team" else _("User"),
        "requests": _("Requests"),
        "tokens": _("Tokens"),
        "cost": _("Cost"),
        "share": _("Share of tokens"),
        "details": _("Details"),
        "empty": _("No usage in this period."),
    }


def compare_csv(viewer: Viewer, found: Comparison) -> bytes:
    """Every team or user of the comparison as CSV: UTF-8 with a BOM (Excel reads Korean),
    plain numbers (cost in the currency's units), formula-like names neutralised."""
    _ = translations(viewer.locale).gettext
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "#",
            _("Team") if found.query.by == "team" else _("User"),
            _("Tenant"),
            "ID",
            _("Requests"),
            _("Tokens"),
            _("Cost (%(currency)s)") % {"currency": viewer.currency},
            _("Share of tokens") + " (%)",
        ]
    )
    total = _sum(found.groups, 0)
    for rank, group in enumerate(found.groups, start=1):
        row = _row(viewer, found, group, total)
        writer.writerow(
            [
                rank,
                _cell(row["name"]),
                _cell(row["tenant"] or ""),
                group.id or "",
                group.requests,
                group.tokens,
                str(Decimal(group.cost_micros) / formats.MICROS),
                row["share"],
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode()


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value
