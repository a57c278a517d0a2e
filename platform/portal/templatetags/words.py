"""Words, not codes, in templates: `{{ job.status|label:"job_status" }}`, `|sentence:"verdict"`,
`{{ when|when }}` (date and time in the reader's language and time zone), `|day`,
`{{ bytes|mb }}`, `{% for c in job.controls|controls %}` ("Label: value" pairs) and
`{% for r in job.decision|refusals %}` (portal.reasons)."""
from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from detection.features import feature_group
from generation.controls import declared
from veritalk import words

from .. import reasons

register = template.Library()


@register.filter
def label(code, kind: str) -> str:
    return words.label(kind, code)


@register.filter
def sentence(code, kind: str) -> str:
    return words.sentence(kind, code)


@register.filter
def cue(feature: str) -> str:
    """The family of a detector feature (a code for `label:"cue"`)."""
    return feature_group(str(feature))


@register.filter
def labels(codes, kind: str) -> str:
    """A list of codes as their labels, joined."""
    return ", ".join(words.label(kind, c) for c in (codes or []))


def _moment(value):
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


@register.filter
def when(value) -> str:
    """Date and time in the reader's language and time zone (no seconds, no ISO)."""
    value = _moment(value)
    if not isinstance(value, datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")


@register.filter
def day(value) -> str:
    value = _moment(value)
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATE_FORMAT") if isinstance(value, (date, datetime)) else ""


@register.filter
def mb(value) -> str:
    try:
        return reasons.megabytes(value)
    except (TypeError, ValueError):
        return ""


def _value(control, value) -> str:
    if control.kind == "choice":
        try:
            value = control.clean(value)
        except ValueError:
            return str(value)
        return gettext(control.choice_label(value))
    if control.kind == "pair":
        x, y = (list(value) + [0, 0])[:2] if not isinstance(value, str) else (value.split(",") + ["0", "0"])[:2]
        return gettext("left–right %(x)s, down–up %(y)s") % {"x": _number(x), "y": _number(y)}
    return _number(value)


def _number(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    return number_format(int(v) if v.is_integer() else v, use_l10n=True)


@register.filter
def controls(values) -> list[tuple[str, str]]:
    """A job's stored controls as (label, value) in the declared order; unknown ones last, as stored."""
    values = dict(values or {})
    out = [(gettext(c.label), _value(c, values.pop(c.name))) for c in declared() if c.name in values]
    return out + [(k, str(v)) for k, v in values.items()]


@register.filter
def refusals(decision) -> list[dict]:
    return reasons.explain(decision)
