"""Real Celery workers (celery.contrib.testing) from request to verified output: on
the Redis server at 127.0.0.1:6379, on RabbitMQ at 127.0.0.1:5672, and on the embedded
filesystem broker."""
import uuid
from contextlib import contextmanager

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from jobs.services import submit_job
from jobs.worker import wait_for_job
from registry.models import RegistryEntry
from tests.platform.conftest import queued_messages
from veritalk.celery import app as default_app

REDIS_URL = "redis://127.0.0.1:6379/13"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def broker_available(url: str) -> bool:
    from kombu import Connection
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@contextmanager
def current(app):
    app.set_current()
    try:
        yield app
    finally:
        default_app.set_current()


def submit_and_wait(subject, photo, audio):
    with open(photo, "rb") as p, open(audio, "rb") as a:
        job = submit_job(creator=subject.created_by, subject=subject, photo=p, audio=a, controls={"size": 256},
                         purpose="test")
    return wait_for_job(job.pk, timeout=120)


def assert_verified(job):
    assert job.status == "succeeded", job.error
    entry = RegistryEntry.objects.get(job=job)
    assert job.verification["verdict"] == "authentic"
    assert job.verification["c2pa"]["state"] == "Trusted"
    assert job.verification["watermark"]["payload"] == entry.watermark_payload


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", [REDIS_URL, RABBITMQ_URL], ids=["redis", "rabbitmq"])
def test_server_broker_worker_from_request_to_verified_output(broker, consenting_subject, portrait, short_speech,
                                                              settings):
    if not broker_available(broker):
        pytest.skip(f"no broker at {broker}")
    # A queue of its own: other test runs may share this server.
    queue = settings.VERITALK_GENERATION_QUEUE = f"generation-test-{uuid.uuid4().hex[:8]}"
    app = Celery("veritalk-broker-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker, broker_transport_options={}, task_default_queue=queue,
                    imports=["jobs.tasks"])
    try:
        with current(app), start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]):
            job = submit_and_wait(consenting_subject, portrait, short_speech)
    finally:
        from kombu import Connection
        with Connection(broker) as conn:
            conn.default_channel.queue_delete(queue)
    assert_verified(job)
    assert queued_messages() == []  # nothing went through the embedded broker


@pytest.mark.django_db(transaction=True)
def test_embedded_broker_worker_from_request_to_verified_output(consenting_subject, portrait, short_speech):
    assert default_app.conf.broker_url.startswith("filesystem://")
    with start_worker(default_app, pool="solo", perform_ping_check=False, queues=["generation"]):
        job = submit_and_wait(consenting_subject, portrait, short_speech)
    assert_verified(job)
