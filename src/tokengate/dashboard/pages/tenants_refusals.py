"""Refusals in the viewer's words, for the tenants and teams pages.

The tenancy service explains a refusal in the API's terms (ids, parameter names, English);
these pages say it again in terms of the form the person filled in, in their language. A form's
values are read with the API's own schema, so the same input is refused the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import LOCALES, N_, say
from tokengate.errors import InvalidRequest, Locale, TokengateError

M = TypeVar("M", bound=BaseModel)


CHECK_VALUES = N_("Check the values you entered.")


@dataclass(frozen=True)
class Refusal:
    """A refusal of the service (its class, the field it names, a phrase of its English
    text when one class and field mean several things) and how to say it."""

    kind: type[TokengateError]
    param: str | None
    message: str
    phrase: str | None = None

    def matches(self, error: TokengateError) -> bool:
        return (
            isinstance(error, self.kind)
            and self.param in (None, error.param)
            and (self.phrase is None or self.phrase in str(error))
        )


@contextmanager
def explained(refusals: Iterable[Refusal], **values: object) -> Iterator[None]:
    """Say the first matching refusal again in the viewer's words (same class, same status);
    any other error passes as it is."""
    try:
        yield
    except TokengateError as error:
        for refusal in refusals:
            if refusal.matches(error):
                localized = say(refusal.message, **values)
                raise type(error)(localized=localized, param=error.param) from error
        raise


def parsed(model: type[M], hints: Mapping[str, str], **data: object) -> M:
    """The form's values read with the API's schema, or a refusal saying what to fix."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = [str(item["loc"][0]) if item["loc"] else "" for item in error.errors()]
        messages = list(dict.fromkeys(hints.get(field, CHECK_VALUES) for field in fields))
        localized: dict[str, str] = {
            locale: " ".join(translations(locale).gettext(m) for m in messages)
            for locale in LOCALES
        }
        raise InvalidRequest(localized=localized, param=fields[0] if fields else None) from error


# what a page says after a plain form's write sent the browser back to it (``?done=…``)
DONE = {
    "created": N_("%(name)s was created."),
    "saved": N_("Changes to %(name)s were saved."),
    "archived": N_("%(name)s was archived."),
    "members": N_("The members of %(name)s were updated."),
}


def done_message(locale: Locale, done: str | None, name: str) -> str | None:
    """The success message a ``?done=`` key stands for, if it is one."""
    if done not in DONE:
        return None
    return translations(locale).gettext(DONE[done]) % {"name": name}
