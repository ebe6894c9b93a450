"""Request bodies: strict pydantic models (no coercion, unknown fields rejected) and the one
function that turns a request into a validated model or a 400 naming the problem.

The same models generate the request schemas of the OpenAPI document (openapi.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal, TypeVar

from flask import request
from pydantic import (AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints,
                      ValidationError, create_model, field_validator)

from appliance.models import INCIDENT_UPDATE_STATUSES, WEBHOOK_EVENTS, WEBHOOK_FORMATS
from appliance.services.incident_updates import MAX_MESSAGE as MAX_UPDATE_MESSAGE
from appliance.monitor_types import MONITOR_TYPES
from appliance.services.status_pages import SLUG_PATTERN
from appliance.monitor_types.fields import FIELDS as MONITOR_FIELDS, MonitorField
from appliance.validation import PLAIN_TEXT_PATTERN, text_problem
from server.errors import ApiError


def _plain_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _multiline_text(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


# Every text a user gives goes through one of these (appliance.validation.text_problem says why):
# no control characters, no bidi overrides or isolates; a multi-line one also takes tab, LF, CR.
PlainText = AfterValidator(_plain_text)
PlainTextPattern = Field(json_schema_extra={"pattern": PLAIN_TEXT_PATTERN})  # the same rule, in the document
MultilineText = AfterValidator(_multiline_text)

MonitorType = Literal[MONITOR_TYPES]  # type: ignore[valid-type]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                PlainText, PlainTextPattern]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+$"), PlainText]  # its own pattern in the document
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), PlainText, PlainTextPattern]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LoginBody(Strict):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=256)]


class PasswordChangeBody(Strict):
    current_password: Annotated[str, StringConstraints(max_length=256)]
    new_password: Password


class UserCreateBody(Strict):
    email: Email
    password: Password
    full_name: FullName = ""
    subscription_tier: Literal["free", "pro"] = "free"
    is_admin: bool = False


class UserUpdateBody(Strict):
    email: Email | None = None
    password: Password | None = None
    full_name: FullName | None = None
    subscription_tier: Literal["free", "pro"] | None = None
    is_admin: bool | None = None


Target = Annotated[str, StringConstraints(max_length=2048), PlainText, PlainTextPattern]
Locations = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64),
                                     PlainText, PlainTextPattern]],
                      Field(min_length=1, max_length=50)]


def _field_type(field: MonitorField):
    """The pydantic type of a monitor field (fields.py), optional: every field may be left out."""
    if field.kind == "int":
        return Annotated[int, Field(ge=field.minimum, le=field.maximum)] | None
    if field.kind == "text":
        return Annotated[str, StringConstraints(max_length=field.max_length), MultilineText] | None  # may span lines
    return {"name": Name, "target": Target, "locations": Locations, "bool": bool}[field.kind] | None


# Every field a monitor can be created or updated with (all optional here), from fields.py.
MonitorFields = create_model("MonitorFields", __base__=Strict, __doc__=(
    "Every field a monitor can be created or updated with (all optional here)."),
    **{f.name: (_field_type(f), None) for f in MONITOR_FIELDS if f.kind != "type"})


class MonitorCreateBody(MonitorFields):
    name: Name
    type: MonitorType


class MonitorUpdateBody(MonitorFields):
    type: MonitorType | None = None  # accepted only when unchanged


class ToggleBody(Strict):
    """Pause or resume: `is_active` says which; left out (`{}`, or no body at all) flips it."""

    is_active: bool = None  # type: ignore[assignment]  # omitted: flip; an explicit null is refused


class PublicBody(Strict):
    public_status: bool


Slug = Annotated[str, StringConstraints(min_length=3, max_length=50, pattern=SLUG_PATTERN)]


class StatusPageBody(Strict):
    """The public status page: its title and the slug in /status/<slug>; slug null turns it off."""

    company_name: Name
    slug: Slug | None

    @field_validator("slug", mode="before")
    @classmethod
    def _explain_slug(cls, value):
        if isinstance(value, str) and not re.fullmatch(SLUG_PATTERN, value):
            raise ValueError("use 3-50 lowercase letters, digits and hyphens, starting and ending "
                             "with a letter or digit")
        return value


WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048),
                      PlainText, PlainTextPattern]
WebhookFormat = Literal[WEBHOOK_FORMATS]  # type: ignore[valid-type]


def _each_once(events: list) -> list:
    if len(set(events)) != len(events):
        raise ValueError("lists an event twice")
    return events


WebhookEvents = Annotated[list[Literal[WEBHOOK_EVENTS]],  # type: ignore[valid-type]
                          Field(min_length=1, max_length=len(WEBHOOK_EVENTS), json_schema_extra={"uniqueItems": True}),
                          AfterValidator(_each_once)]


# One mailbox, no display name: nothing that could split into two recipients or a header.
MAIL_ADDRESS_PATTERN = r"^[^@\s,;:<>()\[\]\\\"\x00-\x1f\x7f]+@[A-Za-z0-9.-]+$"
MailAddress = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                               pattern=MAIL_ADDRESS_PATTERN), PlainText]
SmtpHost = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253),
                    PlainText, PlainTextPattern]
SmtpSecurity = Literal["starttls", "tls", "none"]
SmtpUser = Annotated[str, StringConstraints(max_length=254), PlainText, PlainTextPattern]
SmtpPassword = Annotated[str, StringConstraints(max_length=256)]  # any text: AUTH sends it base64-encoded


class EmailSettingsBody(Strict):
    """An e-mail channel's SMTP server and addresses (`from` is a Python keyword: an alias)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)
    host: SmtpHost
    port: Annotated[int, Field(ge=1, le=65535)] = None  # type: ignore[assignment]  # default: by security
    security: SmtpSecurity = "starttls"
    username: SmtpUser = None  # type: ignore[assignment]
    password: SmtpPassword = Field(default=None, json_schema_extra={"writeOnly": True})  # type: ignore[assignment]
    sender: MailAddress = Field(alias="from")
    to: Annotated[list[MailAddress], Field(min_length=1, max_length=20)]


class EmailSettingsUpdateBody(EmailSettingsBody):
    """The same, each field optional: what is given replaces, the rest (the password too) stays."""

    host: SmtpHost = None  # type: ignore[assignment]
    security: SmtpSecurity = None  # type: ignore[assignment]
    sender: MailAddress = Field(default=None, alias="from")  # type: ignore[assignment]
    to: Annotated[list[MailAddress], Field(min_length=1, max_length=20)] = None  # type: ignore[assignment]


class WebhookCreateBody(Strict):
    # Required for every kind but email (whose addresses are in `email`); the service says so.
    url: WebhookUrl = None  # type: ignore[assignment]
    format: WebhookFormat = "generic"
    events: WebhookEvents = list(WEBHOOK_EVENTS)
    enabled: bool = True
    email: EmailSettingsBody = None  # type: ignore[assignment]


class WebhookUpdateBody(Strict):
    # Omitted fields stay as they are; an explicit null is rejected (defaults are not validated).
    url: WebhookUrl = None  # type: ignore[assignment]
    format: WebhookFormat = None  # type: ignore[assignment]
    events: WebhookEvents = None  # type: ignore[assignment]
    enabled: bool = None  # type: ignore[assignment]
    email: EmailSettingsUpdateBody = None  # type: ignore[assignment]
    rotate_secret: bool = False


def email_settings(body) -> dict | None:
    """The e-mail settings a body gave, under their API names, only those it gave."""
    return None if body is None else body.model_dump(exclude_unset=True, by_alias=True)


LOCATION_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
LocationName = Annotated[str, StringConstraints(pattern=LOCATION_NAME_PATTERN)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                       PlainText, PlainTextPattern]


class ProbeCreateBody(Strict):
    name: LocationName
    display_name: DisplayName


class ProbeUpdateBody(Strict):
    display_name: DisplayName


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _iso_time(value):
    """A time is ISO 8601 text (or a YAML timestamp, already read): a number, or a string of
    digits, is not silently read as a Unix time."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 timestamp with an offset, e.g. 2024-01-15T10:30:00Z")


def _in_utc(value):
    """The time in UTC; a date whose UTC form falls off the calendar is invalid (not a 500)."""
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("is out of range: give a time between the years 1 and 9999 in UTC") from None


# A time with its offset, kept in UTC; one whose UTC form is off the calendar (year 1 at +14:00,
# year 9999 at -01:00) is a 400, not an OverflowError later.
UtcTime = Annotated[AwareDatetime, BeforeValidator(_iso_time), AfterValidator(_in_utc)]


class ProbeResult(Strict):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    monitor_id: Annotated[int, Field(ge=1)]
    # ISO 8601 with an offset, e.g. ...Z
    checked_at: UtcTime = Field(strict=False)
    up: bool
    response_time: Annotated[float, Field(ge=0, le=3_600_000)] | None = None
    error: Annotated[str, StringConstraints(max_length=2000)] | None = None
    details: dict | None = None


class ProbeResultsBody(Strict):
    results: Annotated[list[ProbeResult], Field(max_length=5000)]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class RecurringBody(Strict):
    weekdays: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: ClockTime
    duration_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64), PlainText, PlainTextPattern] = "UTC"


MonitorIds = Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=1000)]


# A maintenance window's announcement on the public status page (may span lines; blank: none).
Notice = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MultilineText,
                   Field(description="Shown on the public status page and in its feed while the window is on "
                                     "or due within 30 days; null or blank: not announced.")]


class MaintenanceBody(Strict):
    name: Name
    monitor_ids: MonitorIds
    starts_at: UtcTime | None = Field(default=None, strict=False)
    ends_at: UtcTime | None = Field(default=None, strict=False)
    recurring: RecurringBody | None = None
    notice: Notice | None = None


class MaintenanceUpdateBody(Strict):
    name: Name = None  # type: ignore[assignment]
    monitor_ids: MonitorIds = None  # type: ignore[assignment]
    starts_at: UtcTime | None = Field(default=None, strict=False)
    ends_at: UtcTime | None = Field(default=None, strict=False)
    recurring: RecurringBody | None = None
    notice: Notice | None = None  # null: no longer announced on the status page


class IncidentUpdateBody(Strict):
    """An update on an incident for status page visitors (server/incident_updates.py)."""
    status: Literal[INCIDENT_UPDATE_STATUSES]  # type: ignore[valid-type]
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_UPDATE_MESSAGE),
                       MultilineText]


class ApiKeyCreateBody(Strict):
    name: DisplayName
    scope: Literal["read", "write"] = "read"


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The request's JSON object validated against `model`, or an ApiError(400)."""
    data = request.get_json(force=True, silent=True)
    if data is None:
        if not request.get_data(cache=True):
            raise ApiError(400, "The request needs a JSON body.")
        raise ApiError(400, "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def validation_error(exc: ValidationError) -> ApiError:
    details: dict[str, str] = {}
    unknown: list[str] = []
    for problem in exc.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        if problem["type"] == "extra_forbidden":
            unknown.append(field)
            details[field] = "is not a known field"
            continue
        message = problem["msg"].removeprefix("Value error, ")
        details.setdefault(field, message)
    if unknown:
        return ApiError(400, f"Unknown field(s): {', '.join(unknown)}.", details)
    field, message = next(iter(details.items()))
    return ApiError(400, f"Invalid {field}: {message}.", details)
