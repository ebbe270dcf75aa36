"""What the operations pages share: permissions, page rendering and the confirmation page.

Permissions: a page is seen with its own view permission (`view_queue`, `view_job`,
`view_worker`) or `view_task`; every action needs its own change permission or `change_task`.
The pages are staff-only (AdminSite.admin_view) and every POST is CSRF-checked (admin_view wraps
each view in csrf_protect). There is nothing to add or delete: the rows live in the broker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from scheduler_core.errors import BrokerUnavailable, InvalidInput

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
else:
    ModelAdminBase = admin.ModelAdmin

TEMPLATES = "admin/scheduler_core/"


class ConsoleAdmin(ModelAdminBase):
    """A page over broker data: custom views in place of the changelist and change form."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("scheduler_core.view_task")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or request.user.has_perm(
            "scheduler_core.change_task"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # ----- urls -----
    def console_urls(self) -> list[tuple[str, Callable[..., HttpResponse], str]]:
        """(route, view, name suffix) of this page's views; the first is its changelist."""
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(route, self.admin_site.admin_view(self._guarded(view)), name="{}_{}_".format(*info) + suffix)
            for route, view, suffix in self.console_urls()
        ]

    def _guarded(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """An unreachable broker or a refused input is a page that says so, not a server error."""

        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except (BrokerUnavailable, InvalidInput) as exc:
                status = 503 if isinstance(exc, BrokerUnavailable) else 400
                page = self.render(request, "problem.html", "Cannot show this page", problem=str(exc))
                page.status_code = status
                return page

        return inner

    # ----- helpers for views -----
    def require_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def require_change(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def render(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        ctx = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "can_change": self.has_change_permission(request),
            **context,
        }
        return TemplateResponse(request, TEMPLATES + template, ctx)

    def confirm(
        self,
        request: HttpRequest,
        *,
        title: str,
        question: str,
        items: Sequence[str],
        fields: Sequence[tuple[str, str]],
        back: str,
        button: str,
    ) -> TemplateResponse:
        """The page that asks before an action runs: it re-posts `fields` with confirm=yes."""
        return self.render(request, "confirm.html", title, question=question, items=items,
                           fields=fields, back=back, button=button)  # fmt: skip


def posted_ids(request: HttpRequest) -> list[str]:
    return [i for i in request.POST.getlist("_selected_action") if i]


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "yes"
