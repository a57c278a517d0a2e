"""A decision's refusals in the reader's language. The policy file's reason texts are
English templates filled with facts ("Consent #{consent[id]} ... revoked on
{consent[revoked_at]}"); the decision stores the filled text and the failing rule ids in
the same order. Each stored text is matched back against its rule's templates, which gives
the outcome and the values it carried; the portal then shows its own sentence for that
outcome (portal.words.REASONS), with dates, sizes, purposes and channels as words."""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from common import units
from consent.policy import current_policy
from veritalk.words import REASONS, VOCABULARY, label

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@lru_cache(maxsize=256)
def _pattern(template: str) -> tuple[re.Pattern, tuple[str, ...]]:
    parts, names, pos = [], [], 0
    for m in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos:m.start()]))
        parts.append("(.*?)")
        names.append(re.sub(r"\W+", "_", m.group(1)).strip("_"))
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(parts) + "$", re.S), tuple(names)


def megabytes(value) -> str:
    size = float(units.megabytes(float(value)))
    return gettext("%(size)s MB") % {"size": number_format(int(size) if size.is_integer() else size, use_l10n=True)}


def _shown(name: str, value: str) -> str:
    """A value read back from a policy text, as the reader should see it."""
    if name.endswith(("_at", "now")):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "DATETIME_FORMAT")
    if name in ("granted", "allowed", "known"):
        kind = "purpose" if name == "allowed" else ("channel" if name == "known" else None)
        codes = [c.strip() for c in value.split(",") if c.strip() and c.strip() != "none"]
        if not codes:
            return gettext("nothing")
        return ", ".join(label(kind or ("purpose" if c in VOCABULARY["purpose"] else "channel"), c) for c in codes)
    if name == "purpose":
        return label("purpose", value)
    if name == "channel":
        return label("channel", value)
    if name.endswith("bytes"):
        try:
            return megabytes(value.replace(",", "").replace("_", ""))
        except ValueError:
            return value
    try:
        number = float(value)
    except ValueError:
        return value
    return number_format(int(number) if number.is_integer() else number, use_l10n=True)


class _Values(dict):
    def __missing__(self, key):
        return "?"


def explain(decision: dict | None) -> list[dict]:
    """[{rule, label, sentence, matched}] for each refusal of `decision`, in its order.
    `matched` is False where the stored text matches none of the rule's templates (a
    policy file the portal does not know): the stored text is then shown as it is."""
    if not decision or decision.get("allowed"):
        return []
    rules = {r.id: r for r in current_policy().rules}
    out = []
    reasons, ids = list(decision.get("reasons") or []), list(decision.get("rules") or [])
    for i, text in enumerate(reasons):
        rule_id = ids[i] if i < len(ids) and len(ids) == len(reasons) else None
        rule = rules.get(rule_id)
        item = {"rule": rule_id, "label": label("rule", rule_id) if rule_id else "", "sentence": text,
                "matched": False}
        for outcome, template in (rule.reasons.items() if rule else ()):
            pattern, names = _pattern(template)
            m = pattern.match(text)
            sentence = REASONS.get((rule.check, outcome))
            if m and sentence is not None:
                values = _Values({n: _shown(n, v) for n, v in zip(names, m.groups())})
                # "... 9:13 p.m.." -> one full stop where a value ends a sentence with its own
                item.update(sentence=re.sub(r"\.\.(?=\s|$)", ".", str(sentence) % values), matched=True)
                break
        out.append(item)
    return out
