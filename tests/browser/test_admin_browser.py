"""The admin's operations pages in a real browser, as a site's staff use them: log in, follow
Queues -> failed -> a job -> requeue and watch a worker finish it; stop a running job from its
page; suspend and resume a worker; and who is refused. Real Redis, real worker processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from scheduler_core.jobs.record import JobStatus
from scheduler_core.models import Task, TaskType
from scheduler_core.queues.queue import get_queue
from tests.browser.conftest import PASSWORD, login, shot
from tests.processes import WorkerProc, wait_status

pytestmark = [pytest.mark.browser, pytest.mark.process, pytest.mark.django_db(transaction=True)]


def _user(name: str, *, staff: bool = True, superuser: bool = False) -> User:
    return User.objects.create_user(name, password=PASSWORD, is_staff=staff, is_superuser=superuser)


def _until(page: Any, check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Reload the page until `check` holds (the pages show a reading, they do not poll)."""
    end = time.time() + timeout
    while not check():
        if time.time() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)
        page.reload()


def _open_queues(page: Any) -> None:
    page.locator("#content-main").get_by_role("link", name="Queues", exact=True).click()
    page.wait_for_selector("table#queues")


def test_requeue_a_failed_job_and_watch_it_finish(page: Any, live_server: Any, worker: WorkerProc) -> None:
    _user("ops", superuser=True)
    q = get_queue("default")
    job = q.enqueue("tests.jobs.fail_times", "browser-requeue", 1)  # fails once, then succeeds
    assert worker.start("--burst", wait=False).wait(30) == 0, worker.stderr()
    assert wait_status(q, job, JobStatus.FAILED).attempt == 1

    login(page, live_server.url, "ops")
    shot(page, "01-admin-index")
    section = page.locator("#content-main").inner_text()
    assert "Queues" in section and "Workers" in section
    _open_queues(page)
    shot(page, "02-queues")
    failed = page.locator("tr[data-queue=default] a[data-registry=failed]")
    assert failed.inner_text() == "1"
    failed.click()
    page.wait_for_selector("table#result_list")
    shot(page, "03-failed-jobs")
    assert "attempt 1 of browser-requeue fails" in page.locator("table#result_list").inner_text()
    page.get_by_role("link", name=job.id).click()
    page.wait_for_selector("#job-status")
    shot(page, "04-job-failed")
    assert page.inner_text("#job-status") == "failed"
    assert "ValueError" in page.inner_text("#job-error")
    page.click("#action-requeue")
    shot(page, "05-confirm-requeue")
    page.click("#confirm")
    page.wait_for_selector("#job-status")
    assert page.inner_text("#job-status") == "queued"
    assert "1 job(s) requeued." in page.inner_text("ul.messagelist")

    assert worker.start("--burst", wait=False).wait(30) == 0, worker.stderr()
    _until(page, lambda: page.inner_text("#job-status") == "finished", "the job to finish")
    shot(page, "06-job-finished")
    assert page.inner_text("#job-result") == "2"  # the second execution's count
    assert q.count("failed") == 0 and q.count("finished") == 1


def test_stop_a_running_job_from_its_page(page: Any, live_server: Any, worker: WorkerProc) -> None:
    _user("ops", superuser=True)
    q = get_queue("default")
    worker.start()
    job = q.enqueue("tests.jobs.sleep", 60)
    wait_status(q, job, JobStatus.ACTIVE)

    login(page, live_server.url, "ops")
    _open_queues(page)
    page.click("tr[data-queue=default] a[data-registry=active]")
    page.wait_for_selector("table#result_list")
    shot(page, "07-active-jobs")
    page.get_by_role("link", name=job.id).click()
    page.wait_for_selector("#job-status")
    assert page.inner_text("#job-status") == "active"
    shot(page, "08-job-running")
    page.click("#action-stop")
    page.click("#confirm")
    _until(page, lambda: page.inner_text("#job-status") == "stopped", "the job to stop", timeout=15)
    shot(page, "09-job-stopped")
    assert "JobStopped" in page.inner_text("#job-error")
    assert q.registry_of(job.id) == "failed"


def test_suspend_and_resume_a_worker(page: Any, live_server: Any, worker: WorkerProc) -> None:
    _user("ops", superuser=True)
    worker.start()
    login(page, live_server.url, "ops")
    page.locator("#content-main").get_by_role("link", name="Workers", exact=True).click()
    row = page.locator(f'tr[data-worker="{worker.name}"]')
    assert row.locator(".worker-state").inner_text() == "idle"
    assert row.locator("button[data-command=resume]").count() == 0  # only the commands that apply
    shot(page, "10-workers")
    for command, state in (("suspend", "suspended"), ("resume", "idle")):
        row.locator(f"button[data-command={command}]").click()
        if command == "suspend":
            shot(page, "11-confirm-suspend")
        page.click("#confirm")
        _until(page, lambda s=state: row.locator(".worker-state").inner_text() == s, f"state {state}")  # type: ignore[misc]
        shot(page, f"12-worker-{state}")
    q = get_queue("default")
    job = q.enqueue("tests.jobs.add", 1, 2)  # a resumed worker takes jobs again
    assert wait_status(q, job, JobStatus.FINISHED).result == 3


def test_non_staff_and_staff_without_permissions_are_refused(page: Any, live_server: Any) -> None:
    base = live_server.url
    _user("visitor", staff=False)
    login(page, base, "visitor")
    assert "/admin/login/" in page.url
    assert "staff account" in page.inner_text(".errornote")
    shot(page, "13-non-staff-refused")
    page.goto(f"{base}/admin/scheduler_core/queue/")
    assert "/admin/login/" in page.url

    _user("clerk")  # staff, no permission
    login(page, base, "clerk")
    assert "permission to view or edit anything" in page.inner_text("#content-main")
    shot(page, "14-staff-without-permission")
    for path in ("queue", "worker", "job"):
        response = page.goto(f"{base}/admin/scheduler_core/{path}/?queue=default&registry=failed")
        assert response is not None and response.status == 403, path
    shot(page, "15-staff-without-permission-forbidden")


def test_task_page_next_fires_run_now_and_quarantine(page: Any, live_server: Any) -> None:
    _user("ops", superuser=True)
    task = Task.objects.create(name="berlin-nightly", type=TaskType.CRON, callable="tests.jobs.noop",
                               cron="30 2 * * *", timezone="Europe/Berlin")  # fmt: skip
    bad = Task.objects.create(name="broken", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *")
    why = "callable tests.jobs.gone: not found"
    Task.objects.filter(pk=bad.pk).update(last_status="invalid", invalid_reason=why)
    login(page, live_server.url, "ops")
    page.locator("#content-main").get_by_role("link", name="Tasks", exact=True).click()
    page.wait_for_selector("#result_list")
    assert "invalid: callable tests.jobs.gone: not found" in page.inner_text("#result_list")
    shot(page, "16-tasks-list-quarantine")
    page.get_by_role("link", name="berlin-nightly").click()
    page.wait_for_selector("#next-fires")
    assert page.locator("#next-fires tbody tr").count() == 10
    page.click("#run-now")
    shot(page, "17-confirm-run-now")
    page.click("#confirm")
    page.wait_for_selector("#job-status")
    assert page.inner_text("#job-status") == "queued"
    assert page.inner_text("#job-task") == "berlin-nightly"
    page.click("#job-task")
    page.wait_for_selector("#recent-runs")
    assert "queued" in page.inner_text("#recent-runs")
    shot(page, "18-task-page")
    page.goto(f"{live_server.url}/admin/scheduler_core/task/{bad.pk}/change/")
    assert "Quarantined" in page.inner_text("ul.messagelist")
    shot(page, "19-task-quarantined")
    assert get_queue("default").count("queued") == 1
    assert Task.objects.get(pk=task.pk).run_count == 0  # run now enqueues; the count waits for the run
