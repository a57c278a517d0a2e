"""Fill locale/fr/LC_MESSAGES/django.po from fr_translations.FR and report what is
missing. Run after `manage.py makemessages -l fr`, then `manage.py compilemessages`."""
import ast
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fr_translations import FR  # noqa: E402

PO = HERE / "fr" / "LC_MESSAGES" / "django.po"


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    out, missing = [], []
    entries = re.split(r"\n\n", PO.read_text(encoding="utf-8").strip())
    for entry in entries:
        lines = entry.splitlines()
        head = [l for l in lines if l.startswith("#")]
        body = [l for l in lines if not l.startswith("#")]
        if not body or not body[0].startswith("msgid"):
            out.append(entry)
            continue
        i = next(n for n, l in enumerate(body) if l.startswith("msgstr"))
        msgid = _unquote([body[0][len("msgid "):]] + body[1:i])
        if msgid == "":
            entry = "\n".join(l for l in lines if "fuzzy" not in l and not l.startswith("# ")
                               and l != "#").replace("PACKAGE VERSION", "Veritalk")
            out.insert(0, "# French translation of the Veritalk portal.")
            out.append(entry.replace("Content-Type: text/plain; charset=CHARSET", "Content-Type: text/plain; charset=UTF-8")
                       .replace('"Language: \\n"', '"Language: fr\\n"'))
            continue
        head = [l for l in head if "fuzzy" not in l]
        if msgid not in FR:
            missing.append(msgid)
        msgstr = FR.get(msgid, "")
        out.append("\n".join(head + [f"msgid {_quote(msgid)}", f"msgstr {_quote(msgstr)}"]))
    PO.write_text("\n\n".join(out) + "\n", encoding="utf-8")
    for m in missing:
        print("missing:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
