"""{{ manifest|manifest_tree }}: a C2PA manifest as nested, keyboard-browsable lists
(<details> for each object or list, so an auditor opens what they need)."""
from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


def _node(key, value, depth: int) -> str:
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        children = format_html_join("", "{}", ((mark_safe(_node(k, v, depth + 1)),) for k, v in items))
        label = value.get("label") if isinstance(value, dict) and isinstance(value.get("label"), str) else None
        summary = (format_html("{} — {}", key, label) if label
                   else format_html("{} <span class=\"help\">({})</span>", key, len(value)))
        return format_html("<li><details{}><summary>{}</summary><ul>{}</ul></details></li>",
                           mark_safe(" open") if depth < 1 else "", summary, children)
    return format_html("<li><span class=\"key\">{}</span>: <code>{}</code></li>", key, value)


@register.filter
def manifest_tree(tree) -> str:
    if not tree:
        return ""
    return format_html("<ul class=\"tree\">{}</ul>", mark_safe(_node("manifest", tree, 0)))
