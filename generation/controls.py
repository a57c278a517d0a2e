"""Generation controls (VASA-1 style), validated in one place for the CLI, the
portal and the API."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import InvalidControl, gettext_noop

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised")
SIZES = (256, 384, 512, 640, 768)
# Which engine renders and which model plans the motion (see generation.backends).
BACKEND_NAMES = ("warp", "diffusion")
MOTIONS = ("procedural", "learned")
DEFAULT_MOTION = "procedural"
LIPSYNC = ("auto", "phonemes", "acoustic")


@dataclass(frozen=True)
class Controls:
    emotion: str = "neutral"
    expression_scale: float = 1.0   # 0 = no facial motion, 1 = natural, up to 2 = exaggerated
    head_motion: float = 1.0        # 0 = still head, 1 = natural, up to 2
    gaze: tuple[float, float] = (0.0, 0.0)  # -1..1 each, x to the subject's left, y up
    blink_rate: float = 15.0        # blinks per minute
    seed: int = 0
    size: int = 512
    backend: str = "warp"           # warp (CPU, default) or diffusion (GPU queue)
    motion: str = DEFAULT_MOTION    # procedural or learned (the warp engine's motion planner)
    lipsync: str = "auto"           # mouth shapes from English phones, from formants, or auto
    fps: int = field(default=25, repr=False)

    def __post_init__(self):
        if self.emotion not in EMOTIONS:
            raise InvalidControl(gettext_noop("emotion must be one of %(choices)s"), field="emotion", params={"choices": ", ".join(EMOTIONS)})
        for name, lo, hi in (("expression_scale", 0.0, 2.0), ("head_motion", 0.0, 2.0), ("blink_rate", 0.0, 60.0)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise InvalidControl(gettext_noop("%(name)s must be a number from %(lo)s to %(hi)s"), field=name,
                                     params={"name": name.replace("_", "-"), "lo": f"{lo:g}", "hi": f"{hi:g}"})
        if len(self.gaze) != 2 or not all(isinstance(g, (int, float)) and -1.0 <= g <= 1.0 for g in self.gaze):
            raise InvalidControl(gettext_noop("gaze must be two numbers X,Y each from -1 to 1"), field="gaze")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise InvalidControl(gettext_noop("seed must be an integer from 0 to 4294967295"), field="seed")
        if self.size not in SIZES:
            raise InvalidControl(gettext_noop("size must be one of %(choices)s"), field="size", params={"choices": ", ".join(map(str, SIZES))})
        if self.backend not in BACKEND_NAMES:
            raise InvalidControl(gettext_noop("backend must be one of %(choices)s"), field="backend",
                                 params={"choices": ", ".join(BACKEND_NAMES)})
        if self.motion not in MOTIONS:
            raise InvalidControl(gettext_noop("motion must be one of %(choices)s"), field="motion", params={"choices": ", ".join(MOTIONS)})
        if self.lipsync not in LIPSYNC:
            raise InvalidControl(gettext_noop("lipsync must be one of %(choices)s"), field="lipsync", params={"choices": ", ".join(LIPSYNC)})
        if self.fps != 25:
            raise InvalidControl(gettext_noop("fps is fixed at 25"), field="fps")

    @classmethod
    def from_mapping(cls, data: dict) -> "Controls":
        """Build from loosely typed input (form fields, JSON, CLI strings)."""
        kwargs = {}
        try:
            for key in ("emotion", "lipsync", "backend", "motion"):
                if data.get(key) not in (None, ""):
                    kwargs[key] = str(data[key]).strip().lower()
            for key in ("expression_scale", "head_motion", "blink_rate"):
                if data.get(key) not in (None, ""):
                    kwargs[key] = float(data[key])
            for key in ("seed", "size"):
                if data.get(key) not in (None, ""):
                    kwargs[key] = int(data[key])
        except (TypeError, ValueError) as exc:
            raise InvalidControl(gettext_noop("invalid control value: %(reason)s"), params={"reason": str(exc)}) from exc
        gaze = data.get("gaze")
        if gaze not in (None, ""):
            try:
                parts = gaze.split(",") if isinstance(gaze, str) else list(gaze)
                kwargs["gaze"] = tuple(float(p) for p in parts)
            except (TypeError, ValueError) as exc:
                raise InvalidControl(gettext_noop("gaze must be two numbers X,Y each from -1 to 1"), field="gaze") from exc
        unknown = set(data) - {f for f in cls.__dataclass_fields__ if f != "fps"}
        if unknown:
            raise InvalidControl(gettext_noop("unknown control(s): %(names)s"), params={"names": ", ".join(sorted(unknown))})
        return cls(**kwargs)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["gaze"] = list(self.gaze)
        d.pop("fps")
        return d
