"""The site's metrics view (scheduler_core.urls): a bearer token or a staff session, nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import get_queue

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-token"


@pytest.fixture
def token(settings: Any) -> str:
    settings.SCHEDULER = {**settings.SCHEDULER, "METRICS_TOKEN": TOKEN}
    reset_config()
    return TOKEN


def test_the_url_is_named_and_under_the_sites_prefix() -> None:
    assert reverse("scheduler_core:metrics") == "/taskctl/metrics"


def test_the_token_lets_prometheus_in(client: Client, token: str) -> None:
    get_queue("default").enqueue("tests.jobs.noop")
    resp = client.get("/taskctl/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/plain; version=0.0.4")
    fam = {f.name: f for f in text_string_to_metric_families(resp.content.decode())}
    queued = {
        s.labels["queue"]: s.value
        for s in fam["taskctl_queue_jobs"].samples
        if s.labels["registry"] == "queued"
    }
    assert queued == {"default": 1, "high": 0, "low": 0}


def test_openmetrics_when_asked(client: Client, token: str) -> None:
    resp = client.get(
        "/taskctl/metrics",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/openmetrics-text; version=1.0.0"},
    )
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/openmetrics-text")
    assert resp.content.decode().endswith("# EOF\n")


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer wrong", 403), ("Bearer ", 401), ("Basic czNjcmV0", 401), (f"bearer {TOKEN}", 200)],
)
def test_anything_but_the_token_is_refused(
    client: Client, token: str, header: str | None, status: int
) -> None:
    resp = client.get("/taskctl/metrics", headers={"Authorization": header} if header else {})
    assert resp.status_code == status
    if status == 401:
        assert resp["WWW-Authenticate"].startswith("Bearer")
    if status != 200:
        assert b"taskctl_" not in resp.content


def test_no_token_configured_refuses_every_bearer(client: Client) -> None:
    assert client.get("/taskctl/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/taskctl/metrics", headers={"Authorization": "Bearer x"}).status_code == 403


def test_staff_sessions_only(client: Client) -> None:
    User.objects.create_user("staff", password="pw", is_staff=True)
    User.objects.create_user("plain", password="pw")
    User.objects.create_user("gone", password="pw", is_staff=True, is_active=False)
    client.login(username="plain", password="pw")
    assert client.get("/taskctl/metrics").status_code == 403
    client.logout()
    client.force_login(User.objects.get(username="gone"))  # Django drops an inactive user's session
    assert client.get("/taskctl/metrics").status_code == 401
    client.logout()
    client.login(username="staff", password="pw")
    resp = client.get("/taskctl/metrics")
    assert resp.status_code == 200 and b"taskctl_queue_jobs" in resp.content


def test_only_safe_methods(client: Client, token: str) -> None:
    resp = client.post("/taskctl/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 405
