"""The admin's operations pages (Queues, a registry's jobs, a job, Workers, Task extras) through
the test Client on a real Redis: what they show, what their actions do, and who may use them."""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from scheduler_core.conf import reset_config
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.models import Task, TaskType
from scheduler_core.queues import lifecycle
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.scheduler.loop import Scheduler
from scheduler_core.scheduler.upcoming import upcoming

pytestmark = pytest.mark.django_db

QUEUES = "/admin/scheduler_core/queue/"
JOBS = "/admin/scheduler_core/job/"
WORKERS = "/admin/scheduler_core/worker/"
NOOP = "tests.jobs.noop"


def _user(name: str, *, staff: bool = True, superuser: bool = False, perms: tuple[str, ...] = ()) -> Client:
    user = User.objects.create(username=name, is_staff=staff, is_superuser=superuser)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def su() -> Client:
    return _user("root", superuser=True)


def _fail_jobs(n: int, queue: str = "default", func: str = "tests.jobs.fail") -> list[str]:
    """n jobs put in `failed` the way a worker leaves them: claimed, then failed."""
    q = get_queue(queue)
    jobs = q.enqueue_many([JobCall(func, (i,)) for i in range(n)])
    ids = [j.id for j in jobs]
    fields = {"exc_type": "RuntimeError", "exc_message": "boom <b>", "traceback": "Traceback ..."}
    for _ in ids:
        claimed = lifecycle.claim(q, "w-test")
        assert claimed is not None
        lifecycle.complete(q, claimed, lifecycle.Outcome(JobStatus.FAILED, fields), worker="w-test")
    return ids


def _broker_state(redis_client: Any, prefix: str) -> dict[bytes, bytes]:
    return {k: redis_client.dump(k) for k in sorted(redis_client.scan_iter(match=f"{prefix}:*"))}


def test_index_lists_queues_and_workers_in_the_scheduler_section(su: Client) -> None:
    body = su.get("/admin/").content.decode()
    section = body[body.index("Scheduler") :]
    for name in ("Queues", "Workers", "Tasks", "Task sets"):
        assert f">{name}<" in section, name
    assert ">Jobs<" not in body  # reached from Queues only


def test_queues_page_counts_links_and_never_writes(su: Client, redis_client: Any, key_prefix: str) -> None:
    q = get_queue("default")
    q.enqueue("tests.jobs.add", 1, 2)
    q.enqueue_in(3600, "tests.jobs.noop")
    _fail_jobs(2)
    before = _broker_state(redis_client, key_prefix)
    r = su.get(QUEUES)
    assert r.status_code == 200
    assert _broker_state(redis_client, key_prefix) == before
    row = {q["name"]: q for q in r.context["rows"]}["default"]
    assert (row["scheduled"], row["queued"], row["failed"], row["reachable"]) == (1, 1, 2, True)
    body = r.content.decode()
    assert f'href="{JOBS}?queue=default&amp;registry=failed"' in body
    assert "No scheduler holds the leader lock" in body


def test_leader_scheduler_is_named(su: Client) -> None:
    sched = Scheduler()
    assert sched.leader.ensure()
    try:
        body = su.get(QUEUES).content.decode()
    finally:
        sched.leader.release()
    assert (
        f"Leader scheduler: <strong>{socket.gethostname()}</strong> pid {os.getpid()}, leading since" in body
    )


def test_unreachable_broker_is_shown_per_queue(settings: Any, su: Client) -> None:
    conf = dict(settings.SCHEDULER)
    conf["QUEUES"] = {**conf["QUEUES"], "far": {"BROKER_URL": "redis://127.0.0.1:1/0"}}
    conf["CONNECT_TIMEOUT"] = 1
    settings.SCHEDULER = conf
    reset_config()
    r = su.get(QUEUES)
    rows = {q["name"]: q for q in r.context["rows"]}
    assert rows["default"]["reachable"] and not rows["far"]["reachable"]
    assert "broker unreachable" in r.content.decode()


def test_registry_page_is_a_window_with_a_next_link(su: Client) -> None:
    q = get_queue("default")
    jobs = q.enqueue_many([JobCall("tests.jobs.add", (i, i)) for i in range(30)])
    r = su.get(JOBS, {"queue": "default", "registry": "queued", "limit": "25"})
    page = r.context["page"]
    assert [j["id"] for j in page.jobs] == [j.id for j in jobs[:25]]
    assert page.total == 30 and page.next_offset == 25
    r2 = su.get(JOBS, {"queue": "default", "registry": "queued", "limit": "25", "offset": "25"})
    assert [j["id"] for j in r2.context["page"].jobs] == [j.id for j in jobs[25:]]
    assert r2.context["page"].next_offset is None


def test_registry_filters_by_callable_and_task_and_finds_by_id(su: Client) -> None:
    task = Task.objects.create(
        name="nightly", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *"
    )
    q = get_queue("default")
    q.enqueue_many([JobCall("tests.jobs.add", (1, 2)) for _ in range(5)])
    mine = q.enqueue_call(JobCall("tests.jobs.noop", task_id=task.pk, job_id=f"task-{task.pk}-1"))
    r = su.get(JOBS, {"queue": "default", "registry": "queued", "callable": "noop"})
    assert [j["id"] for j in r.context["page"].jobs] == [mine.id]
    r = su.get(JOBS, {"queue": "default", "registry": "queued", "task": "nightly"})
    assert [j["id"] for j in r.context["page"].jobs] == [mine.id]
    r = su.get(JOBS, {"queue": "default", "registry": "queued", "task": "no-such-task"})
    assert r.context["page"].jobs == []
    r = su.get(JOBS, {"queue": "default", "registry": "queued", "q": mine.id})
    assert r.status_code == 302 and r["Location"] == f"{JOBS}default/{mine.id}/"


def test_bulk_requeue_asks_first_then_requeues(su: Client) -> None:
    ids = _fail_jobs(3)
    url = f"{JOBS}?queue=default&registry=failed"
    r = su.post(url, {"action": "requeue", "_selected_action": ids[:2]})
    assert r.status_code == 200 and "Yes, requeue them" in r.content.decode()
    q = get_queue("default")
    assert q.count("failed") == 3  # nothing happened yet
    r = su.post(url, {"action": "requeue", "_selected_action": ids[:2], "confirm": "yes"})
    assert r.status_code == 302
    assert q.count("failed") == 1 and q.count("queued") == 2
    assert "2 job(s) requeued." in [str(m) for m in su.get(r["Location"]).context["messages"]]


def test_action_that_does_not_fit_is_skipped_with_its_reason(su: Client) -> None:
    ids = _fail_jobs(1)
    q = get_queue("default")
    queued = q.enqueue("tests.jobs.noop")
    url = f"{JOBS}?queue=default&registry=failed"
    r = su.post(
        url, {"action": "requeue", "_selected_action": [ids[0], queued.id], "confirm": "yes"}, follow=True
    )
    texts = [str(m) for m in r.context["messages"]]
    assert "1 job(s) requeued." in texts
    assert any(t.startswith(f"{queued.id}: skipped: job {queued.id} is queued") for t in texts)


def test_cancel_stop_delete_offered_by_registry(su: Client) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.noop")
    r = su.get(JOBS, {"queue": "default", "registry": "queued"})
    assert r.context["page"].actions == ("cancel", "delete")
    su.post(f"{JOBS}?queue=default&registry=queued", {"action": "cancel", "_selected_action": [job.id],
                                                        "confirm": "yes"})  # fmt: skip
    assert q.fetch_job(job.id).status is JobStatus.CANCELED  # type: ignore[union-attr]
    su.post(f"{JOBS}?queue=default&registry=canceled", {"action": "delete", "_selected_action": [job.id],
                                                          "confirm": "yes"})  # fmt: skip
    assert q.fetch_job(job.id) is None


def test_requeue_all_and_empty(su: Client) -> None:
    q = get_queue("default")
    _fail_jobs(4)
    url = f"{JOBS}?queue=default&registry=failed"
    r = su.post(url, {"whole_action": "requeue_all"})
    assert "Yes, requeue all" in r.content.decode() and q.count("failed") == 4
    su.post(url, {"whole_action": "requeue_all", "confirm": "yes"})
    assert q.count("failed") == 0 and q.count("queued") == 4
    su.post(f"{JOBS}?queue=default&registry=queued", {"whole_action": "empty", "confirm": "yes"})
    assert q.count("queued") == 0
    r = su.post(
        f"{JOBS}?queue=default&registry=active", {"whole_action": "empty", "confirm": "yes"}, follow=True
    )
    assert "does not apply" in " ".join(str(m) for m in r.context["messages"])


def test_job_page_escapes_arguments_results_and_errors(su: Client) -> None:
    evil = "<script>alert(1)</script>"
    ids = _fail_jobs(1, func="tests.jobs.fail")
    q = get_queue("default")
    j = q.enqueue_call(JobCall("tests.jobs.add", (evil,), {"k": evil}, meta={"m": evil}))
    for job_id in (ids[0], j.id):
        body = su.get(f"{JOBS}default/{job_id}/").content.decode()
        assert "<script>alert" not in body and "<b>" not in body
    body = su.get(f"{JOBS}default/{j.id}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    failed = su.get(f"{JOBS}default/{ids[0]}/")
    assert failed.context["registry"] == "failed"
    assert [a for a, _ in failed.context["actions"]] == ["requeue", "delete"]
    assert "boom &lt;b&gt;" in failed.content.decode()


def test_job_page_links_its_task_and_acts(su: Client) -> None:
    task = Task.objects.create(name="poll", type=TaskType.REPEATABLE, callable="tests.jobs.noop", interval=60)
    q = get_queue("default")
    job = q.enqueue_call(JobCall("tests.jobs.noop", task_id=task.pk, job_id=f"task-{task.pk}-99"))
    r = su.get(f"{JOBS}default/{job.id}/")
    assert r.context["task_link"] == f"/admin/scheduler_core/task/{task.pk}/change/"
    r = su.post(f"{JOBS}default/{job.id}/", {"action": "cancel"})
    assert "Yes, cancel it" in r.content.decode()
    su.post(f"{JOBS}default/{job.id}/", {"action": "cancel", "confirm": "yes"})
    assert q.fetch_job(job.id).status is JobStatus.CANCELED  # type: ignore[union-attr]
    assert su.get(f"{JOBS}default/no-such-job/").status_code == 404


def test_reading_pages_needs_staff_and_a_view_permission(redis_client: Any, key_prefix: str) -> None:
    ids = _fail_jobs(1)
    pages = (QUEUES, WORKERS, f"{JOBS}?queue=default&registry=failed", f"{JOBS}default/{ids[0]}/")
    anonymous = Client()
    outsider = _user("outsider", staff=False)
    bare_staff = _user("bare")
    for page in pages:
        assert anonymous.get(page).status_code == 302  # to the login page
        r = outsider.get(page)
        assert r.status_code == 302 and "/admin/login/" in r["Location"]
        assert bare_staff.get(page).status_code == 403, page
    viewer = _user("viewer", perms=("view_task",))
    for page in pages:
        assert viewer.get(page).status_code == 200, page
    viewer_own = _user("viewer2", perms=("view_queue", "view_job"))
    assert viewer_own.get(QUEUES).status_code == 200
    assert viewer_own.get(WORKERS).status_code == 403


def test_actions_need_a_change_permission(key_prefix: str) -> None:
    ids = _fail_jobs(1)
    q = get_queue("default")
    viewer = _user("viewer", perms=("view_task",))
    url = f"{JOBS}?queue=default&registry=failed"
    body = viewer.get(url).content.decode()
    assert 'name="action"' not in body  # no action controls without the permission
    for data in ({"action": "requeue", "_selected_action": ids, "confirm": "yes"},
                 {"whole_action": "empty", "confirm": "yes"}):  # fmt: skip
        assert viewer.post(url, data).status_code == 403
    assert viewer.post(f"{JOBS}default/{ids[0]}/", {"action": "delete", "confirm": "yes"}).status_code == 403
    assert viewer.post(WORKERS, {"action": "stop", "worker": "w", "confirm": "yes"}).status_code == 403
    assert q.count("failed") == 1
    operator = _user("operator", perms=("view_job", "change_job"))
    operator.post(url, {"action": "requeue", "_selected_action": ids, "confirm": "yes"})
    assert q.count("failed") == 0


def test_every_post_is_csrf_checked(key_prefix: str) -> None:
    ids = _fail_jobs(1)
    user = User.objects.create(username="root", is_staff=True, is_superuser=True)
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    url = f"{JOBS}?queue=default&registry=failed"
    assert c.post(url, {"action": "requeue", "_selected_action": ids, "confirm": "yes"}).status_code == 403
    assert c.post(f"{JOBS}default/{ids[0]}/", {"action": "delete", "confirm": "yes"}).status_code == 403
    assert c.post(WORKERS, {"action": "suspend", "worker": "x", "confirm": "yes"}).status_code == 403
    assert get_queue("default").count("failed") == 1
    page = c.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    data = {"action": "requeue", "_selected_action": ids, "confirm": "yes", "csrfmiddlewaretoken": token[1]}
    assert c.post(url, data).status_code == 302
    assert get_queue("default").count("failed") == 0


def test_workers_page_with_no_worker(su: Client) -> None:
    r = su.get(WORKERS)
    assert r.status_code == 200 and "No live worker" in r.content.decode()
    r = su.post(WORKERS, {"action": "suspend", "worker": "ghost", "confirm": "yes"}, follow=True)
    assert "no running worker named 'ghost'" in " ".join(str(m) for m in r.context["messages"])


def test_task_page_shows_next_fires_with_dst_marks_and_recent_runs(su: Client) -> None:
    task = Task.objects.create(
        name="berlin",
        type=TaskType.CRON,
        callable="tests.jobs.noop",
        cron="30 2 * * *",
        timezone="Europe/Berlin",
    )
    q = get_queue("default")
    ran = q.enqueue_call(JobCall("tests.jobs.noop", task_id=task.pk, job_id=f"task-{task.pk}-run-abc"))
    other = q.enqueue("tests.jobs.noop")
    r = su.get(f"/admin/scheduler_core/task/{task.pk}/change/")
    assert len(r.context["next_fires"]) == 10
    assert [x["id"] for x in r.context["runs"]] == [ran.id] and other.id not in r.content.decode()
    assert f'href="{JOBS}default/{ran.id}/"' in r.content.decode()
    assert 'id="run-now"' in r.content.decode()


def test_task_next_fires_mark_a_dst_change() -> None:
    Task.objects.create(name="b", type=TaskType.CRON, callable="tests.jobs.noop", cron="30 2 * * *",
                        timezone="Europe/Berlin")  # fmt: skip
    rows = upcoming("b", 10, now=datetime(2026, 3, 24, tzinfo=UTC))["occurrences"]
    assert any("DST starts" in r["note"] for r in rows)


def test_run_now_asks_then_enqueues(su: Client) -> None:
    task = Task.objects.create(name="adhoc", type=TaskType.ONCE, callable="tests.jobs.noop",
                               at="2030-01-01T00:00:00Z", enabled=False)  # fmt: skip
    url = f"/admin/scheduler_core/task/{task.pk}/run/"
    r = su.get(url)
    assert "Yes, run it now" in r.content.decode()
    q = get_queue("default")
    assert q.count("queued") == 0
    r = su.post(url, {"confirm": "yes"})
    assert r.status_code == 302 and r["Location"].startswith(f"{JOBS}default/task-{task.pk}-run-")
    assert q.count("queued") == 1
    assert _user("v", perms=("view_task",)).post(url, {"confirm": "yes"}).status_code == 403


def test_quarantined_task_says_why_in_the_list_and_on_its_page(su: Client) -> None:
    task = Task.objects.create(name="bad", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *")
    Task.objects.filter(pk=task.pk).update(
        last_status="invalid", invalid_reason="callable tests.jobs.gone: not found"
    )
    body = su.get("/admin/scheduler_core/task/").content.decode()
    assert "invalid: callable tests.jobs.gone: not found" in body
    r = su.get(f"/admin/scheduler_core/task/{task.pk}/change/")
    assert "Quarantined: the scheduler does not plan this task: callable tests.jobs.gone: not found" in [
        str(m) for m in r.context["messages"]
    ]


def test_job_page_lists_every_attempt_with_its_error(su: Client) -> None:
    q = get_queue("default")
    job = q.enqueue_call(JobCall("tests.jobs.fail", retry=Retry(2, (0,))))
    for n in (1, 2):
        claimed = lifecycle.claim(q, "w-test")
        assert claimed is not None and claimed.attempt == n
        fields = {"exc_type": "RuntimeError", "exc_message": f"attempt {n} broke"}
        assert lifecycle.retry_later(q, claimed, 0, fields)
        q.promote_due()
    claimed = lifecycle.claim(q, "w-test")
    assert claimed is not None
    fields = {"exc_type": "RuntimeError", "exc_message": "attempt 3 broke"}
    lifecycle.complete(q, claimed, lifecycle.Outcome(JobStatus.FAILED, fields), worker="w-test")
    r = su.get(f"{JOBS}default/{job.id}/")
    notes = [(a["n"], a["note"]) for a in r.context["history"]]
    assert notes == [
        (1, "RuntimeError: attempt 1 broke; retried"),
        (2, "RuntimeError: attempt 2 broke; retried"),
        (3, "RuntimeError: attempt 3 broke"),
    ]
    assert all(a["started_at"] is not None for a in r.context["history"])
