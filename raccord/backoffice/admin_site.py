"""The Django admin, themed for Raccord and closed to anyone without a back-office role.

Its own login form is replaced by the agents' login page, which is throttled."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from raccord.backoffice.roles import user_role


class RaccordAdminSite(admin.AdminSite):
    site_header = _("Raccord – gestion")
    site_title = _("Raccord – gestion")
    index_title = _("Administration")
    site_url = "/gestion/"

    def has_permission(self, request: HttpRequest) -> bool:
        return user_role(request.user) is not None

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return redirect_to_login(target, reverse("backoffice:login"))


def admin_site_install() -> None:
    """Give the default admin site Raccord's behaviour.

    The clean way is ``raccord.backoffice.admin_config.RaccordAdminConfig`` in INSTALLED_APPS instead of django.contrib.admin;
    until settings use it, the default site's class is switched here (the site keeps its
    registry: the subclass adds no state)."""
    site = admin.site
    if not isinstance(site, RaccordAdminSite):
        site.__class__ = RaccordAdminSite
