"""Items 5 and 6: ALLOWED_CALLABLES by defining module and no `_` segments, at validate, enqueue
and run time (callbacks and hand-written records too); the open-callables warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ValidationError

from scheduler_core.callables import resolve
from scheduler_core.conf import reset_config
from scheduler_core.errors import CallableError
from scheduler_core.jobs.failure import retry_in
from scheduler_core.jobs.record import Job, JobStatus
from scheduler_core.manifest import ManifestInvalid, load_manifest
from scheduler_core.models import Task
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker.running import AfterWork, Callables, run, run_callback
from tests.processes import WorkerProc, assert_clean

ALLOWED = ("tests.hostile.myjobs",)
REFUSED = [
    "tests.hostile.myjobs.os.system",  # a module the allowed one imports
    "tests.hostile.myjobs.os.popen",
    "tests.hostile.myjobs.__loader__.get_data",  # dunder traversal
    "tests.hostile.myjobs.__builtins__",
    "tests.hostile.myjobs.Path.write_text",  # a class imported from elsewhere
    "tests.hostile.myjobs.ok.__globals__",
    "os.system",  # outside the prefix
    "tests.hostile.myjobsx.f",  # a prefix is a whole segment
]


@pytest.mark.parametrize("path", REFUSED)
def test_resolve_refuses_traversal(path: str) -> None:
    with pytest.raises(CallableError, match="not allowed"):
        resolve(path, ALLOWED)


@pytest.mark.parametrize("path", ["tests.hostile.myjobs.ok", "tests.hostile.myjobs.Tools.ping"])
def test_resolve_allows_what_the_module_defines(path: str) -> None:
    assert callable(resolve(path, ALLOWED))


def test_a_prefix_naming_one_function_allows_that_function_only() -> None:
    assert resolve("tests.hostile.myjobs.ok", ["tests.hostile.myjobs.ok"])() == "ok"
    with pytest.raises(CallableError):
        resolve("tests.hostile.myjobs.os.system", ["tests.hostile.myjobs.os"])


@pytest.fixture
def allowlist(settings: Any) -> None:

    settings.SCHEDULER = {**settings.SCHEDULER, "ALLOWED_CALLABLES": list(ALLOWED)}
    reset_config()


def test_enqueue_refuses_traversal(allowlist: None) -> None:

    q = get_queue("default")
    for path in REFUSED:
        with pytest.raises(CallableError):
            q.enqueue(path, "echo pwned")
    assert q.counts()["queued"] == 0


@pytest.mark.django_db
def test_model_and_manifest_refuse_traversal_in_callbacks(allowlist: None, tmp_path: Path) -> None:
    task = Task(name="t", type="cron", cron="0 3 * * *", callable="tests.hostile.myjobs.ok",
                on_success="tests.hostile.myjobs.os.system")  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        task.save()
    assert list(exc.value.message_dict) == ["on_success"]
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nset: s\ntasks:\n  - {name: t, type: cron, cron: '0 3 * * *', "
        "callable: tests.hostile.myjobs.__loader__.get_data}\n"
    )
    with pytest.raises(ManifestInvalid) as bad:
        load_manifest([str(path)])
    assert [p.path for p in bad.value.problems] == ["tasks[0].callable"]


def test_run_time_refuses_a_hand_written_record_and_a_callback() -> None:

    callables = Callables(ALLOWED)
    job = Job(id="x", queue="default", callable="tests.hostile.myjobs.os.system", args=["true"])
    ran = run(callables, job)
    assert not ran.ok and isinstance(ran.exc, CallableError)
    assert retry_in(job, ran.exc) is None  # never retried
    good = Job(id="y", queue="default", callable="tests.hostile.myjobs.ok",
               on_success="tests.hostile.myjobs.os.system")  # fmt: skip
    assert run(callables, good).ok
    with pytest.raises(CallableError):
        callables.get(good.on_success)
    run_callback(AfterWork(good, JobStatus.FINISHED, "ok"), callables, 5.0)  # logged, not run


@pytest.mark.process
def test_a_worker_refuses_traversal_written_past_enqueue(key_prefix: str, tmp_path: Path) -> None:
    """Records enqueued where no allowlist applies (here: this test process) and run by a worker
    that has one: the job and the callback are refused at run time; nothing runs."""

    marker = tmp_path / "pwned"
    q = get_queue("default")
    bad = q.enqueue("tests.hostile.myjobs.os.system", f"touch {marker}")
    cb = q.enqueue_call(JobCall("tests.hostile.myjobs.ok", on_success="tests.hostile.myjobs.os.system"))
    worker = WorkerProc(key_prefix, tmp_path)
    env = worker.env()
    worker.env = lambda: {**env, "TASKCTL_ALLOWED_CALLABLES": ",".join(ALLOWED)}  # type: ignore[method-assign]
    try:
        proc = worker.start("--burst", wait=False)
        assert proc.wait(30) == 0, worker.stderr()
    finally:
        worker.stop_all()
    failed = q.fetch_job(bad.id)
    assert failed is not None and failed.status is JobStatus.FAILED and "not allowed" in failed.exc_message
    assert q.fetch_job(cb.id).status is JobStatus.FINISHED  # type: ignore[union-attr]
    assert "callback tests.hostile.myjobs.os.system failed" in worker.stderr()
    assert not marker.exists()
    assert "ALLOWED_CALLABLES' is not set" not in worker.stderr()  # it is set here
    assert_clean(q)


@pytest.mark.process
def test_worker_warns_at_start_when_any_callable_can_run(key_prefix: str, tmp_path: Path) -> None:

    worker = WorkerProc(key_prefix, tmp_path)
    try:
        assert worker.start("--burst", wait=False).wait(30) == 0, worker.stderr()
    finally:
        worker.stop_all()
    assert "SCHEDULER['ALLOWED_CALLABLES'] is not set and DEBUG is False" in worker.stderr()


def test_system_check_warns_unless_set_or_debug(settings: Any) -> None:

    def ids() -> list[str]:
        reset_config()
        return [m.id for m in checks.run_checks(tags=[checks.Tags.security]) if m.id]

    settings.DEBUG = False
    assert "scheduler_core.W001" in ids()
    settings.SCHEDULER = {**settings.SCHEDULER, "ALLOWED_CALLABLES": ["tests"]}
    assert "scheduler_core.W001" not in ids()
    settings.SCHEDULER = {k: v for k, v in settings.SCHEDULER.items() if k != "ALLOWED_CALLABLES"}
    settings.DEBUG = True
    assert "scheduler_core.W001" not in ids()
