"""Generation controls (VASA-1 style), each declared once in CONTROLS: its name, the
values it takes (choices or a range), default, help and translatable label.

`Controls` validates values against these declarations, and the platform derives the
portal form, the API serializer (so the OpenAPI schema) and the command-line flags
from them: a new control is one more `Control` in CONTROLS. Labels and help are
English marked with `gettext_noop`, translated where they are shown."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import InvalidControl, gettext_noop

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised")
SQUARE_SIZES = (256, 384, 512, 640, 768)
WIDE_SIZES = ((1280, 720), (720, 1280), (1920, 1080), (1080, 1920))   # 16:9 and 9:16, 720p and 1080p
# Output frame sizes, "WxH"; a bare N (what older jobs stored) is the square N x N.
SIZES = tuple(f"{s}x{s}" for s in SQUARE_SIZES) + tuple(f"{w}x{h}" for w, h in WIDE_SIZES)
DEFAULT_SIZE = "512x512"
LIPSYNC_MODES = ("auto", "phonemes", "acoustic")
# The engines (generation.backends.<name>) and the warp engine's motion planners.
BACKEND_NAMES = ("warp", "diffusion")
DEFAULT_BACKEND = "warp"
MOTIONS = ("procedural", "learned")
DEFAULT_MOTION = "procedural"
FPS = 25   # fixed: the engines, the watermark and the detector all assume it


def _number(raw) -> float:
    if isinstance(raw, bool):
        raise ValueError(raw)
    return float(raw)


def _integer(raw) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(raw)
    return int(raw)


def _pair(raw) -> tuple[float, float]:
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(_number(p) for p in parts)


def _size(raw) -> str:
    """Loose size input as "WxH": 512, "512", "512x512", "1280 x 720", (1280, 720)."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, (tuple, list)) and len(raw) == 2:
        w, h = (_integer(v) for v in raw)
    elif isinstance(raw, (int, float)):
        w = h = _integer(raw)
    else:
        parts = str(raw).lower().replace("\u00d7", "x").replace(" ", "").split("x")
        if len(parts) not in (1, 2) or not all(p.isdigit() for p in parts):
            raise ValueError(raw)
        w, h = int(parts[0]), int(parts[-1])
    return f"{w}x{h}"


def frame_size(value) -> tuple[int, int]:
    """(width, height) in pixels of a size value (see SIZES; a bare N is N x N)."""
    w, _, h = _size(value).partition("x")
    return int(w), int(h)


def _size_label(value: str) -> str:
    w, h = frame_size(value)
    if w == h:
        return f"{w} x {h}"
    return f"{w} x {h} ({'16:9' if w > h else '9:16'})"


def _num_text(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


@dataclass(frozen=True)
class Control:
    """One control. `kind` is "choice", "number", "integer" or "pair" (two numbers
    X,Y); `parse` turns loose input (form text, JSON, a CLI string) into the value
    and may be given for a custom syntax; `labels` name the choices in the portal."""
    name: str
    kind: str
    default: Any
    label: str
    help: str = ""
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    labels: Mapping[Any, str] = field(default_factory=dict)
    parse: Callable[[Any], Any] | None = None
    normalise: Callable[[Any], Any] | None = None   # a choice's equivalent spellings -> the stored one

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def clean(self, raw) -> Any:
        """The checked value of loose input; InvalidControl names the control otherwise."""
        parse = self.parse or {"number": _number, "integer": _integer, "pair": _pair}.get(self.kind)
        if parse is None:   # a choice: match the type of its values
            parse = type(self.choices[0]) if self.choices else str
        try:
            value = parse(raw.strip().lower() if isinstance(raw, str) and self.kind == "choice" else raw)
        except (TypeError, ValueError):
            raise self._invalid() from None
        return self.check(value)

    def check(self, value) -> Any:
        """`value` as stored (a pair becomes a tuple), or InvalidControl."""
        if self.kind == "choice":
            if self.normalise is not None:
                try:
                    value = self.normalise(value)
                except (TypeError, ValueError):
                    raise self._invalid() from None
            ok = value in self.choices
        elif self.kind == "pair":
            ok = (isinstance(value, (tuple, list)) and len(value) == 2
                  and all(self._in_range(v, (int, float)) for v in value))
            value = tuple(value) if ok else value
        else:
            ok = self._in_range(value, int if self.kind == "integer" else (int, float))
        if not ok:
            raise self._invalid()
        return value

    def _in_range(self, v, types) -> bool:
        return (isinstance(v, types) and not isinstance(v, bool) and (self.low is None or v >= self.low)
                and (self.high is None or v <= self.high))

    def _invalid(self) -> InvalidControl:
        name = self.flag[2:]
        if self.kind == "choice":
            return InvalidControl.not_one_of(self.name, self.choices)
        template = {"number": gettext_noop("%(name)s must be a number from %(lo)s to %(hi)s"),
                    "integer": gettext_noop("%(name)s must be an integer from %(lo)s to %(hi)s"),
                    "pair": gettext_noop("%(name)s must be two numbers X,Y each from %(lo)s to %(hi)s")}[self.kind]
        return InvalidControl(template, field=self.name, params={"name": name, "lo": _num_text(self.low),
                                                                 "hi": _num_text(self.high)})

    def text(self, value) -> str:
        """The value as typed in a form field or on the command line."""
        if self.kind == "pair":
            return ",".join(map(_num_text, value))
        return _num_text(value) if self.kind in ("number", "integer") else str(value)

    def jsonable(self, value):
        return list(value) if self.kind == "pair" else value

    def choice_label(self, value) -> str:
        return self.labels.get(value) or str(value).capitalize()

    def schema(self) -> dict:
        """The control as JSON Schema (the API's OpenAPI schema shows it)."""
        if self.kind == "choice":
            typ = "integer" if all(isinstance(c, int) for c in self.choices) else "string"
            out = {"type": typ, "enum": list(self.choices)}
        elif self.kind == "pair":
            out = {"type": "string", "pattern": r"^\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*$",
                   "example": self.text(self.default)}
        else:
            out = {"type": self.kind, "minimum": self.low, "maximum": self.high}
        return {**out, "default": self.text(self.default) if self.kind == "pair" else self.default}

    def describe(self) -> str:
        """One line for --help: what it does, what it takes, its default."""
        if self.kind == "choice":
            takes = ", ".join(map(str, self.choices))
        elif self.kind == "pair":
            takes = f"X,Y each from {_num_text(self.low)} to {_num_text(self.high)}"
        else:
            takes = f"{_num_text(self.low)} to {_num_text(self.high)}"
        return f"{self.help} ({takes}; default {self.text(self.default)})".lstrip()


CONTROLS: tuple[Control, ...] = (
    Control("emotion", "choice", "neutral", gettext_noop("Emotion"), gettext_noop("The face's mood."),
            choices=EMOTIONS,
            labels={"neutral": gettext_noop("Neutral"), "happy": gettext_noop("Happy"), "sad": gettext_noop("Sad"),
                    "angry": gettext_noop("Angry"), "surprised": gettext_noop("Surprised")}),
    Control("expression_scale", "number", 1.0, gettext_noop("Expression scale"),
            gettext_noop("0 keeps the face still, 1 is natural, 2 exaggerated."), low=0.0, high=2.0),
    Control("head_motion", "number", 1.0, gettext_noop("Head motion"),
            gettext_noop("0 keeps the head still, 1 is natural, 2 doubles it."), low=0.0, high=2.0),
    Control("gaze", "pair", (0.0, 0.0), gettext_noop("Gaze"),
            gettext_noop("X,Y from -1 to 1: x to the subject's left, y up."), low=-1.0, high=1.0),
    Control("blink_rate", "number", 15.0, gettext_noop("Blinks per minute"), gettext_noop("How often the eyes blink."),
            low=0.0, high=60.0),
    Control("seed", "integer", 0, gettext_noop("Seed"),
            gettext_noop("The same inputs and seed give the same frames."), low=0, high=2**32 - 1),
    Control("size", "choice", DEFAULT_SIZE, gettext_noop("Size"),
            gettext_noop("Width and height of the video in pixels."),
            choices=SIZES, labels={s: _size_label(s) for s in SIZES}, parse=_size, normalise=_size),
    Control("backend", "choice", DEFAULT_BACKEND, gettext_noop("Engine"),
            gettext_noop("Diffusion runs on the GPU queue."), choices=BACKEND_NAMES,
            labels={"warp": gettext_noop("Warp (CPU)"), "diffusion": gettext_noop("Diffusion (GPU)")}),
    Control("motion", "choice", DEFAULT_MOTION, gettext_noop("Motion planner"),
            gettext_noop("How the warp engine plans head and face motion."), choices=MOTIONS,
            labels={"procedural": gettext_noop("Procedural (rules)"),
                    "learned": gettext_noop("Learned (from real videos)")}),
    Control("lipsync", "choice", "auto", gettext_noop("Lip sync"),
            gettext_noop("Mouth shapes from English phones, from formants, or chosen automatically."),
            choices=LIPSYNC_MODES,
            labels={"auto": gettext_noop("Automatic"), "phonemes": gettext_noop("From English phones"),
                    "acoustic": gettext_noop("From formants")}),
)


def declared() -> tuple[Control, ...]:
    """The declared controls, read at call time (forms, schema and flags follow CONTROLS)."""
    return CONTROLS


def control(name: str) -> Control:
    return next(c for c in CONTROLS if c.name == name)


class Controls:
    """A checked, immutable set of values, one per declared control (the default where
    none is given), read as attributes: `Controls(size=256).size`."""
    fps = FPS
    __slots__ = ("_values",)

    def __init__(self, **values):
        unknown = set(values) - {c.name for c in CONTROLS}
        if unknown:
            raise InvalidControl(gettext_noop("unknown control(s): %(names)s"),
                                 params={"names": ", ".join(sorted(unknown))})
        object.__setattr__(self, "_values", {c.name: c.check(values.get(c.name, c.default)) for c in CONTROLS})

    @classmethod
    def from_mapping(cls, data: Mapping) -> "Controls":
        """Build from loosely typed input (form fields, JSON, CLI strings); blank means the default."""
        known = {c.name: c for c in CONTROLS}
        unknown = set(data) - set(known)
        if unknown:
            raise InvalidControl(gettext_noop("unknown control(s): %(names)s"),
                                 params={"names": ", ".join(sorted(unknown))})
        return cls(**{k: known[k].clean(v) for k, v in data.items() if v not in (None, "")})

    def __getattr__(self, name):
        if name == "_values":   # not set yet (while unpickling)
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("Controls are immutable; build new ones with replace()")

    @property
    def width(self) -> int:
        return frame_size(self._values["size"])[0]

    @property
    def height(self) -> int:
        return frame_size(self._values["size"])[1]

    def replace(self, **changes) -> "Controls":
        return Controls(**{**self._values, **changes})

    def __eq__(self, other):
        return isinstance(other, Controls) and self._values == other._values

    def __hash__(self):
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self):
        return "Controls(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def __reduce__(self):
        return _restore, (dict(self._values),)

    def as_dict(self) -> dict:
        """JSON-ready values, as stored with a job."""
        return {c.name: c.jsonable(self._values[c.name]) for c in CONTROLS}


def _restore(values: dict) -> Controls:
    return Controls(**values)
