"""Agent roles: three groups (agent, billing, admin) and the checks the back-office uses.

A back-office user is an active staff user in one of the role groups (a superuser counts as
admin). Customers are never staff, and staff without a role are refused everywhere, so giving
someone ``is_staff`` by mistake opens nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

ROLE_AGENT = "agent"
ROLE_BILLING = "billing"
ROLE_ADMIN = "admin"
# Strongest first: a user put in several groups gets the strongest role.
ROLES: tuple[str, ...] = (ROLE_ADMIN, ROLE_BILLING, ROLE_AGENT)
ROLE_LABELS = {
    ROLE_AGENT: "Conseiller",
    ROLE_BILLING: "Facturation",
    ROLE_ADMIN: "Administrateur",
}

# The baseline permissions of each role: (app label, model name or "*", actions or "*").
# Agents read customers, contracts, mandates, the history and the catalogue, and create
# contracts (with their customer and mandate) through the sign-up form.
_AGENT_RULES: list[tuple[str, str, tuple[str, ...] | str]] = [
    ("customers", "customer", ("view", "add")),
    ("contracts", "contract", ("view", "add")),
    ("contracts", "contractoption", ("view", "add")),
    ("payments", "mandate", ("view", "add")),
    ("core", "event", ("view",)),
    ("catalog", "*", ("view",)),
    ("eligibility", "address", ("view",)),
    ("eligibility", "premises", ("view",)),
]
ROLE_RULES: dict[str, list[tuple[str, str, tuple[str, ...] | str]]] = {
    ROLE_AGENT: _AGENT_RULES,
    # Billing staff also work on payments and, once the billing app exists, on its models.
    ROLE_BILLING: [
        *_AGENT_RULES,
        ("payments", "*", ("view", "add", "change")),
        ("billing", "*", ("view", "add", "change")),
    ],
    ROLE_ADMIN: [("*", "*", "*")],
}

_ROLE_CACHE_ATTR = "_raccord_role"
_UNSET = object()


def user_role(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The back-office role of ``user``, or None when it must not reach the back-office."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not getattr(user, "is_staff", False):
        return None
    # getattr, not __dict__: request.user is a lazy proxy that forwards attributes only.
    cached = getattr(user, _ROLE_CACHE_ATTR, _UNSET)
    if cached is not _UNSET:
        return cast("str | None", cached)
    role: str | None
    if getattr(user, "is_superuser", False):
        role = ROLE_ADMIN
    else:
        names = set(
            Group.objects.filter(user__pk=user.pk, name__in=ROLES).values_list("name", flat=True)
        )
        role = next((r for r in ROLES if r in names), None)
    # One query per request at most: the user object lives as long as the request.
    setattr(user, _ROLE_CACHE_ATTR, role)
    return role


def user_role_forget(user: AbstractBaseUser) -> None:
    """Drop the cached role (after the user's groups changed)."""
    if hasattr(user, _ROLE_CACHE_ATTR):
        delattr(user, _ROLE_CACHE_ATTR)


def role_allowed(user: AbstractBaseUser | AnonymousUser | None, roles: Iterable[str]) -> bool:
    role = user_role(user)
    return role is not None and role in set(roles)


F = TypeVar("F", bound=Callable[..., HttpResponse])


def role_required(*roles: str) -> Callable[[F], F]:
    """Restrict a view to the given roles (all three when none is given).

    An anonymous visitor is sent to the agents' login page; a signed-in user without one of the
    roles (a customer, a staff user without a role, an agent on an admin page) gets a 403."""
    allowed = set(roles or ROLES)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
            if not role_allowed(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


class RoleRequiredMixin:
    """The class-based view twin of ``role_required``."""

    allowed_roles: tuple[str, ...] = ROLES

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
        if not role_allowed(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def role_permissions(role: str, *, permission_model: type[Model] = Permission) -> list[Any]:
    """The permission rows a role's rules select, among the permissions that exist now."""
    rules = ROLE_RULES[role]
    permissions = permission_model.objects.select_related("content_type")  # type: ignore[attr-defined]
    selected = []
    for permission in permissions:
        app_label = permission.content_type.app_label
        model = permission.content_type.model
        action = permission.codename.split("_", 1)[0]
        for rule_app, rule_model, rule_actions in rules:
            if rule_app not in ("*", app_label) or rule_model not in ("*", model):
                continue
            if rule_actions == "*" or action in rule_actions:
                selected.append(permission)
                break
    return selected


def role_groups_sync(
    *, group_model: type[Model] = Group, permission_model: type[Model] = Permission
) -> None:
    """Create the role groups and grant each its baseline permissions.

    Adds, never removes: a permission an operator granted by hand stays. Takes the models as
    arguments so that the data migration can pass its historical ones."""
    for role in ROLES:
        group, _created = group_model.objects.get_or_create(name=role)  # type: ignore[attr-defined]
        wanted = role_permissions(role, permission_model=permission_model)
        have = set(group.permissions.values_list("pk", flat=True))
        missing = [p for p in wanted if p.pk not in have]
        if missing:
            group.permissions.add(*missing)
