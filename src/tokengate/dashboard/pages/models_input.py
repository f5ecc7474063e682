"""Form input of the models (and limits) pages: read into the admin API's own schemas, so a
form is checked exactly as the API checks its body; what fails is told field by field, in the
viewer's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import get_args

from pydantic import ValidationError
from starlette.datastructures import FormData

from tokengate.catalog.schemas import ModelCreate, ModelUpdate, ParamName, ProbeTarget
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_, form_text
from tokengate.errors import InvalidRequest, Locale
from tokengate.ids import MAX_ID

# what a pydantic error type means, as a person reads it
PROBLEMS = {
    "missing": N_("is required"),
    "string_too_short": N_("is required"),
    "string_too_long": N_("is too long"),
    "string_pattern_mismatch": N_("may hold only letters, digits and . _ : / -"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "decimal_parsing": N_("must be a number"),
    "decimal_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "finite_number": N_("must be a number"),
    "decimal_max_places": N_("has too many decimal places"),
    "decimal_max_digits": N_("is too large"),
    "literal_error": N_("is not one of the choices"),
    "enum": N_("is not one of the choices"),
    "url_parsing": N_("is not a valid URL"),
    "url_scheme": N_("is not a valid URL"),
    "url_type": N_("is not a valid URL"),
    "url_too_long": N_("is not a valid URL"),
    "too_long": N_("has too many entries"),
}
# the rules a schema checks itself (its ValueError text), with the field they are about
RULES = (
    ("thresholds are percentages", "thresholds", N_("must be percentages from 1 to 1000")),
    ("auto_block blocks", "auto_block", N_("applies only to user and key limits")),
    ("start_hour and end_hour", "start_hour", N_("must differ from the end hour")),
    ("min <= default <= max", "params", N_("needs minimum ≤ default ≤ maximum")),
)
MODEL_LABELS = {
    "name": N_("Name"),
    "provider": N_("Provider"),
    "upstream_model": N_("Upstream model"),
    "base_url": N_("Base URL"),
    "api_key": N_("API key"),
    "input_price_per_mtok": N_("Input price per 1M tokens"),
    "output_price_per_mtok": N_("Output price per 1M tokens"),
    "cached_input_price_per_mtok": N_("Cached input price per 1M tokens"),
    "cache_write_price_per_mtok": N_("Cache write price per 1M tokens"),
    "default_max_tokens": N_("Default max tokens"),
    "max_tokens_cap": N_("Max tokens cap"),
    "version": N_("Version"),
    "description": N_("Description"),
    "params": N_("Parameters"),
}
PARAMS: tuple[str, ...] = get_args(ParamName)
PARAM_PARTS = ("default", "min", "max")
TEXT_FIELDS = ("name", "provider", "upstream_model", "base_url", "api_key", "version")
NUMBER_FIELDS = (
    "input_price_per_mtok",
    "output_price_per_mtok",
    "cached_input_price_per_mtok",
    "cache_write_price_per_mtok",
    "default_max_tokens",
    "max_tokens_cap",
)


def invalid(
    problems: Sequence[tuple[str, str, Mapping[str, object]]], locale: Locale
) -> InvalidRequest:
    """One readable error naming each (label, problem, values) in the viewer's language."""
    _ = translations(locale).gettext
    parts = []
    for label, problem, values in problems:
        text = _(problem) % {k: str(v) for k, v in values.items()} if values else _(problem)
        parts.append(_("%(field)s: %(problem)s") % {"field": _(label), "problem": text})
    unique = list(dict.fromkeys(parts))
    return InvalidRequest(
        _("Please correct the form. %(problems)s.") % {"problems": "; ".join(unique)}
    )


def from_validation(
    error: ValidationError, labels: Mapping[str, str], locale: Locale
) -> InvalidRequest:
    """A schema's refusal of a form, field by field."""
    problems: list[tuple[str, str, Mapping[str, object]]] = []
    for item in error.errors():
        where = [str(part) for part in item["loc"]]
        field = next((part for part in where if part in labels), None)
        problem = PROBLEMS.get(item["type"], N_("is not valid"))
        values: Mapping[str, object] = item.get("ctx") or {}
        if item["type"] == "value_error":
            values = {}
            for text, about, explained in RULES:
                if text in item["msg"]:
                    field, problem = field or about, explained
        if field not in labels:
            field = next((name for name in labels if name in item["msg"]), None)
        label = labels[field] if field is not None else N_("Form")
        problems.append((label, problem, values))
    return invalid(problems, locale)


def _params(form: FormData) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for param in PARAMS:
        rule = {
            p: v for p in PARAM_PARTS if (v := form_text(form, f"param_{param}_{p}")) is not None
        }
        if rule:
            found[param] = rule
    return found


def model_fields(form: FormData) -> dict[str, object]:
    """The model form's filled-in fields, as the API's body would carry them."""
    body: dict[str, object] = {}
    for name in (*TEXT_FIELDS, *NUMBER_FIELDS):
        value = form.get(name) if name == "api_key" else form_text(form, name)
        if isinstance(value, str) and value:
            body[name] = value
    if form_text(form, "description") is not None:
        body["description"] = form_text(form, "description")
    if params := _params(form):
        body["params"] = params
    if form.get("allow_alias"):
        body["allow_alias"] = True
    return body


def model_create(form: FormData, locale: Locale) -> ModelCreate:
    """The register form as the API's create body."""
    try:
        return ModelCreate.model_validate(model_fields(form))
    except ValidationError as exc:
        raise from_validation(exc, MODEL_LABELS, locale) from None


def model_update(form: FormData, locale: Locale) -> ModelUpdate:
    """The edit form as the API's update body: the name never changes, an empty key field
    keeps the key, and the parameters are replaced by the form's."""
    body = model_fields(form)
    body.pop("name", None)
    body["params"] = body.get("params", {})
    if form.get("remove_api_key"):
        body["api_key"] = None
    try:
        return ModelUpdate.model_validate(body)
    except ValidationError as exc:
        raise from_validation(exc, MODEL_LABELS, locale) from None


def probe_target(form: FormData, locale: Locale) -> ProbeTarget:
    """The register form's upstream, to try before saving."""
    fields = model_fields(form)
    body = {
        k: fields[k] for k in ("provider", "upstream_model", "base_url", "api_key") if k in fields
    }
    try:
        return ProbeTarget.model_validate(body)
    except ValidationError as exc:
        raise from_validation(exc, MODEL_LABELS, locale) from None


def chosen_id(text: str, label: str, locale: Locale) -> int | None:
    """An id picked in a filter's menu, where the empty choice means "all"."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_ID:
        raise invalid([(label, N_("is not one of the choices"), {})], locale)
    return int(text)


def decimal_of(text: str | None) -> Decimal | None:
    """A number a person typed (1,234.5 too), or None when it is not one."""
    if text is None:
        return None
    try:
        value = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
