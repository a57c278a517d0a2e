"""The analysis task, on the `detection` queue: the detector and the provenance check
run together and report progress on the case."""
from celery import shared_task

from .services import ANALYSE_TASK, run_analysis


@shared_task(name=ANALYSE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def analyse_case(case_id: str) -> None:
    run_analysis(case_id)
