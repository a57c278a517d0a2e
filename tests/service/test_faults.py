"""Faults against a real stack (own PostgreSQL and Redis, and the Procfile's gunicorn,
intake worker, two generation workers and beat as processes): a worker SIGKILLed
mid-job, Redis restarted (losing every message) while jobs wait for generation and
while they wait for the intake, PostgreSQL restarted. No job is lost, none is made
or decided twice."""
import json
import time

import pytest

from bench import stack as stack_mod
from common.polling import wait_until
from tests.conftest import corpus_file

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def stack():
    reason = stack_mod.available()
    if reason:
        pytest.skip(reason)
    with stack_mod.Stack(workers=2) as s:
        s.seed_data = s.seed(corpus_file("photos/elizabeth_olsen.jpg"))
        yield s


def submit(stack, audio="audio/sr_english_en.wav", size=256):
    r = stack.submit(stack.seed_data, corpus_file("photos/elizabeth_olsen.jpg"), corpus_file(audio), size=size)
    assert r.status_code == 202 and r.json()["status"] == "checking", r.text
    return r.json()["id"]


def wait_checked(stack, jobs, timeout: float = 120.0):
    """Until the intake has decided every job (none is `checking` any more)."""
    deadline = time.monotonic() + timeout
    while stack.sql("select count(*) from jobs_job where status = 'checking' and id::text = any(%s)", jobs)[0][0]:
        assert time.monotonic() < deadline, "the intake did not decide the jobs in time"
        time.sleep(0.2)


def assert_exactly_once(stack, job_id):
    (status, attempts, sha), = stack.sql("select status, attempts, output_sha256 from jobs_job where id = %s", job_id)
    assert status == "succeeded"
    entries = stack.sql("select state, output_sha256 from registry_registryentry where job_id = %s", job_id)
    assert entries == [("issued", sha)]
    actions = [a for (a,) in stack.sql("select action from audit_auditevent where target_id = %s order by seq",
                                       str(job_id))]
    assert actions.count("job.succeeded") == 1 and actions.count("job.created") == 1
    assert actions.count("job.checked") == 1                  # the intake decided it once
    assert len(stack.sql("select 1 from audit_auditevent where action = 'policy.decision' and target_id = %s "
                         "and data->>'stage' = 'submission'", str(job_id))) == 1
    assert len(stack.sql("select 1 from audit_auditevent where action = 'registry.issued' and data->>'job' = %s",
                         str(job_id))) == 1
    files = sorted(p.name for p in (stack.base / "var" / "media" / "jobs" / str(job_id)).iterdir())
    assert [f for f in files if f.endswith(".mp4")] == ["output.mp4"]  # one output, no partial file
    return attempts, actions


def test_worker_killed_mid_generation_completes_once_on_the_other(stack):
    job = submit(stack, audio="audio/librispeech_1069_en.flac", size=512)   # ~16 s of audio
    def running_owner():
        rows = stack.sql("select status, lease_owner, progress_done from jobs_job where id = %s", job)
        return rows[0][1] if rows and rows[0][0] == "running" and rows[0][2] > 0 else None
    owner = wait_until(running_owner, timeout=120, what="the job starting on a worker")
    assert owner.startswith("worker"), owner
    victim = owner.split("@")[0]
    stack.kill(victim)                                 # SIGKILL: no shutdown, no acknowledgement
    assert stack.wait_final([job], timeout=240)[job] == "succeeded", stack.log("worker1") + stack.log("worker2")
    attempts, actions = assert_exactly_once(stack, job)
    assert attempts == 2 and "job.resumed" in actions
    (new_owner,) = stack.sql("select data->>'worker' from audit_auditevent where action = 'job.resumed' "
                             "and target_id = %s", str(job))[0]
    assert not new_owner.startswith(victim + "@")
    stack.start_worker(int(victim.removeprefix("worker")))  # back to two workers for the next tests


def test_redis_restart_loses_no_job(stack):
    jobs = [submit(stack, audio="audio/vctk_p240_en.mp3", size=512) for _ in range(6)]
    wait_checked(stack, jobs)
    waiting = [j for (j,) in stack.sql("select id::text from jobs_job where status = 'queued' and id::text = any(%s)",
                                        jobs)]
    restarted = stack.sql("select now()")[0][0]
    stack.redis.restart()                              # every queued and unacknowledged message is gone
    final = stack.wait_final(jobs, timeout=300)
    assert set(final.values()) == {"succeeded"}, final
    for job in jobs:
        assert_exactly_once(stack, job)
    assert waiting, "no job was waiting in the queue when Redis went down"
    # A message a worker had already received survives in the worker (late acknowledgement),
    # so up to one waiting job per worker may run without being re-sent; every other
    # waiting job's message died with Redis and must have been sent again by the reaper.
    resent = stack.sql("select count(*) from jobs_job where id::text = any(%s) and dispatched_at > %s",
                       waiting, restarted)[0][0]
    assert resent >= len(waiting) - stack.n_workers, (resent, len(waiting))
    assert resent >= 1


def test_redis_restart_loses_no_job_waiting_for_the_intake(stack):
    stack.kill("intake1")                              # no intake worker: the jobs stay checking
    jobs = [submit(stack) for _ in range(3)]
    assert {s for (s,) in stack.sql("select status from jobs_job where id::text = any(%s)", jobs)} == {"checking"}
    restarted = stack.sql("select now()")[0][0]
    stack.redis.restart()                              # their intake messages are gone
    stack.run_line("intake1", "intake")
    final = stack.wait_final(jobs, timeout=300)
    assert set(final.values()) == {"succeeded"}, (final, stack.log("intake1")[-3000:])
    for job in jobs:
        assert_exactly_once(stack, job)
    resent = stack.sql("select count(*) from audit_auditevent e join jobs_job j on e.target_id = j.id::text "
                       "where e.action = 'job.checked' and e.created_at > %s and j.id::text = any(%s)",
                       restarted, jobs)[0][0]
    assert resent == len(jobs)                         # each decided after the reaper sent it again


def test_postgres_restart_loses_no_job(stack):
    jobs = [submit(stack) for _ in range(3)]
    time.sleep(1.5)
    stack.pg.restart()                                 # every connection is cut
    final = stack.wait_final(jobs, timeout=300)
    assert set(final.values()) == {"succeeded"}, final
    for job in jobs:
        assert_exactly_once(stack, job)


def test_audit_chain_and_storage_are_intact_after_the_faults(stack):
    assert json.loads(stack.manage("audit_verify", "--json"))["intact"]
    assert json.loads(stack.manage("check_storage", "--json"))["ok"]
