"""Batch workers pinned off the web tier's core (`runworker --cpus`)."""
import os

import pytest
from django.core.management import CommandError, call_command

from jobs.cpus import CpuSpecError, batch_cpus


def test_all_means_no_pinning():
    assert batch_cpus("all", {0, 1}) is None
    assert batch_cpus("", {0, 1}) is None


def test_spare_leaves_the_first_cpu_to_the_web_tier():
    assert batch_cpus("spare", {0, 1}) == {1}
    assert batch_cpus("spare", {2, 3, 5}) == {3, 5}
    assert batch_cpus("spare", {0}) is None          # one CPU: nothing to spare, no pinning


def test_lists_and_ranges():
    assert batch_cpus("1,3-4", {0, 1, 2, 3, 4}) == {1, 3, 4}


@pytest.mark.parametrize("spec", ["7", "one", "1-x", ","])
def test_a_cpu_the_machine_lacks_is_named(spec):
    with pytest.raises(CpuSpecError, match="--cpus"):
        batch_cpus(spec, {0, 1})


def test_runworker_refuses_a_bad_cpu_list_before_starting():
    with pytest.raises(CommandError, match="offers CPUs"):
        call_command("runworker", "--queues", "intake", "--cpus", str(max(os.sched_getaffinity(0)) + 1))
