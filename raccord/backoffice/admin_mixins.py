"""Building blocks for the domain apps' admin classes: who may see and edit what, singletons,
read-only registers, and the history entry every agent change writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from raccord.backoffice.roles import ROLE_ADMIN, ROLES, role_allowed
from raccord.core.events import Actor, event_record


class RoleAdminMixin:
    """Role checks on top of the model permissions of the role groups.

    ``view_roles`` may see the model, ``edit_roles`` may add, change and delete it (when the
    model permissions allow it too). The default: everyone sees, only admins edit."""

    view_roles: tuple[str, ...] = ROLES
    edit_roles: tuple[str, ...] = (ROLE_ADMIN,)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return role_allowed(request.user, self.view_roles) and super().has_module_permission(  # type: ignore[misc]
            request
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_allowed(request.user, self.view_roles) and super().has_view_permission(  # type: ignore[misc]
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return role_allowed(request.user, self.edit_roles) and super().has_add_permission(  # type: ignore[misc]
            request, *args
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_allowed(request.user, self.edit_roles) and super().has_change_permission(  # type: ignore[misc]
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_allowed(request.user, self.edit_roles) and super().has_delete_permission(  # type: ignore[misc]
            request, obj
        )


class RoleModelAdmin(RoleAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyModelAdmin(RoleModelAdmin):
    """A register nobody edits here: imported or append-only data."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SingletonModelAdmin(RoleModelAdmin):
    """One row per instance (operator profile, policies): no second row, never deleted."""

    view_roles = (ROLE_ADMIN,)
    edit_roles = (ROLE_ADMIN,)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not self.model._default_manager.exists() and super().has_add_permission(
            request, *args
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HistoryAdminMixin:
    """Every change made in the admin goes into the customer's history (who, what, old → new).

    ``history_subject`` names the subject type of the event; ``history_customer_id`` finds the
    customer the object belongs to. Fields listed in ``history_hidden_fields`` are named but
    their values are not copied (nothing sensitive leaks into the history)."""

    history_subject: str = ""
    history_hidden_fields: tuple[str, ...] = ()

    def history_customer_id(self, obj: Any) -> int | None:
        return getattr(obj, "customer_id", None)

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        changed = list(form.changed_data)
        if change and not changed:
            return
        changes = {
            name: [_plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))]
            for name in changed
            if name not in self.history_hidden_fields
        }
        labels = [str(form.fields[name].label or name) for name in changed if name in form.fields]
        if change:
            verb = f"{self.history_subject}.updated"
            summary = f"Modifié dans l'administration : {', '.join(labels)}"
        else:
            verb = f"{self.history_subject}.created"
            summary = "Créé dans l'administration"
        assert request.user.is_authenticated
        event_record(
            actor=Actor.agent(request.user),
            verb=verb,
            summary=summary,
            at=timezone.now(),
            subject_type=self.history_subject,
            subject_id=obj.pk,
            customer_id=self.history_customer_id(obj),
            data={"source": "admin", "fields": changed, "changes": changes},
        )


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a form value for the event's data."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    return str(value)
