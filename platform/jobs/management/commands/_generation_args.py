"""Command-line flags for the generation controls, shared by `generate` and `demo`."""


def add_control_arguments(parser):
    g = parser.add_argument_group("generation controls")
    g.add_argument("--emotion", help="neutral, happy, sad, angry or surprised")
    g.add_argument("--expression-scale", type=float, help="0 (still face) to 2 (exaggerated); default 1")
    g.add_argument("--head-motion", type=float, help="0 (still head) to 2; default 1")
    g.add_argument("--gaze", help="X,Y each from -1 to 1")
    g.add_argument("--blink-rate", type=float, help="blinks per minute; default 15")
    g.add_argument("--seed", type=int, help="same inputs and seed give the same frames")
    g.add_argument("--size", type=int, help="output width and height in pixels; default 512")
    g.add_argument("--backend", help="warp (CPU engine, default) or diffusion (runs on the gpu queue)")
    g.add_argument("--motion", help="procedural or learned: the warp engine's motion planner")
    parser.add_argument("--purpose", default="", help="what the video is for (checked against the consent)")
    parser.add_argument("--channel", default="", help="where the video will be shown (checked against the consent)")
    parser.add_argument("--worker", choices=("auto", "embedded", "external"), default="auto",
                        help="auto: run an in-process worker when the broker is the embedded default")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the job")


def controls_from_options(opts) -> dict:
    keys = ("emotion", "expression_scale", "head_motion", "gaze", "blink_rate", "seed", "size", "backend", "motion")
    return {k: opts[k] for k in keys if opts.get(k) is not None}
