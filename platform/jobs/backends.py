"""Which engines and queues this deployment offers. A backend is offered only where a
worker can run it: the diffusion backend needs a GPU worker with Hallo's weights
(VERITALK_DIFFUSION_WEIGHTS, a folder that exists); without them the forms leave it out
and say why, and a submission that asks for it is refused by name before anything is
stored. `make serve` and `runworker --queues offered` take every queue offered here."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from generation.controls import control

NO_GPU_WORKER = gettext_noop("Diffusion (GPU) is not offered here: this deployment has no GPU worker with the "
                             "diffusion weights (VERITALK_DIFFUSION_WEIGHTS is not set to a folder that exists).")


def unavailable_backends() -> dict[str, str]:
    """backend name -> why it is not offered (an English template, translated where shown)."""
    weights = settings.VERITALK_DIFFUSION_WEIGHTS
    if not weights or not Path(weights).expanduser().is_dir():
        return {"diffusion": NO_GPU_WORKER}
    return {}


def offered_backends() -> list[str]:
    off = unavailable_backends()
    return [name for name in control("backend").choices if name not in off]


def offered_queues() -> list[str]:
    """Every queue a worker must take for what this deployment offers."""
    queues = [settings.VERITALK_INTAKE_QUEUE, settings.VERITALK_GENERATION_QUEUE, settings.VERITALK_DETECTION_QUEUE]
    if "diffusion" in offered_backends():
        queues.append(settings.VERITALK_GPU_QUEUE)
    return queues
