"""The metrics view for a site's own URLconf (`scheduler_core.urls`, path `metrics`).

Allowed: a request with `Authorization: Bearer <SCHEDULER["METRICS_TOKEN"]>` (what Prometheus
sends with `authorization: {credentials: ...}`), or an active staff user's session. Otherwise 401
(no credentials) or 403 (wrong ones). GET and HEAD only.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


def _allowed(request: HttpRequest) -> bool | None:
    """True: allowed; False: credentials given and refused; None: no credentials."""
    from scheduler_core.conf import get_config

    token = get_config().metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        return bool(token) and hmac.compare_digest(given.strip().encode(), token.encode())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.is_active and user.is_staff)
    return None


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client.exposition import choose_encoder

    allowed = _allowed(request)
    if not allowed:
        response = HttpResponse(
            "forbidden\n" if allowed is False else "authentication required\n",
            status=403 if allowed is False else 401,
            content_type="text/plain",
        )
        if allowed is None:
            response["WWW-Authenticate"] = 'Bearer realm="taskctl metrics"'
        return response
    from scheduler_core.metrics.collector import make_registry

    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(make_registry()), content_type=content_type)
