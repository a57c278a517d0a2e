"""Command-line flags for the generation controls, shared by `generate` and `demo`:
one flag per declared control (generation.controls), checked by the library when the
job is submitted, so a bad value is refused by name like in the portal and the API."""
from generation.controls import declared


def add_control_arguments(parser):
    g = parser.add_argument_group("generation controls")
    for c in declared():
        g.add_argument(c.flag, dest=c.name, metavar=c.name.upper(), help=c.describe().replace("%", "%%"))
    parser.add_argument("--purpose", default="", help="what the video is for (checked against the consent)")
    parser.add_argument("--channel", default="", help="where the video will be shown (checked against the consent)")
    parser.add_argument("--worker", choices=("auto", "embedded", "external"), default="auto",
                        help="auto: run an in-process worker when the broker is the embedded default")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the job")


def controls_from_options(opts) -> dict:
    return {c.name: opts[c.name] for c in declared() if opts.get(c.name) is not None}
