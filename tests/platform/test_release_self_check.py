"""The worker's self-check of an output is taken before the release (outside the audit
log's lock, which every submission waits for) against the registry entry as it is about
to be issued: it must say exactly what a verification of the released file says."""
import pytest

from jobs.runner import run_job
from jobs.services import submit_job
from registry.models import RegistryEntry
from registry.services import verify_path


@pytest.mark.django_db
def test_the_self_check_before_release_matches_a_verification_after_it(consenting_subject, portrait, short_speech):
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=consenting_subject.created_by, subject=consenting_subject, photo=p, audio=a,
                         controls={"size": 256}, purpose="test")
    job = run_job(str(job.pk))
    assert job.status == "succeeded", job.error
    entry = RegistryEntry.objects.get(job=job)
    after = verify_path(job.output.path)
    assert job.verification == after
    assert after["verdict"] == "authentic" and after["registry"]["registry_id"] == entry.pk
    assert after["registry"]["matched_by"] == "hash"


@pytest.mark.django_db
def test_an_entry_not_yet_issued_is_found_only_for_its_own_file(consenting_subject, portrait, short_speech):
    """A reserved entry handed to verify_path is not issued: other files do not match it."""
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=consenting_subject.created_by, subject=consenting_subject, photo=p, audio=a,
                         controls={"size": 256}, purpose="test")
    job = run_job(str(job.pk))
    other = RegistryEntry(pk=999_999, job=job, output_sha256="0" * 64, poster_sha256="1" * 64)
    result = verify_path(job.output.path, releasing=other)
    assert result["registry"]["registry_id"] == RegistryEntry.objects.get(job=job).pk   # the issued one
