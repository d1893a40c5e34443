"""Back-office writes: agent accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from raccord.backoffice.roles import ROLES, role_groups_sync, user_role_forget
from raccord.contracts.signup import normalize_email
from raccord.core.errors import DomainError


@transaction.atomic
def agent_create(
    *,
    email: str,
    role: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create (or update) a staff account with exactly one back-office role.

    Idempotent on the email: running it again changes the role, the names and, when given, the
    password. Without a password the account gets an unusable one, to be set with
    ``raccord changepassword``. A customer's login is never turned into an agent."""
    if role not in ROLES:
        raise DomainError(
            f"Rôle inconnu : {role!r} (attendu : {', '.join(sorted(ROLES))}).", field="role"
        )
    email = normalize_email(email)
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).order_by("id").first()
    if user is None:
        user = user_model(username=email.lower(), email=email)
    elif hasattr(user, "customer"):
        raise DomainError(
            "Cette adresse est celle d'un client : un compte de gestion doit en avoir une autre.",
            field="email",
        )
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise DomainError(" ".join(error.messages), field="password") from None
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.is_staff = True
    user.is_active = True
    if first_name:
        user.first_name = first_name
    if last_name:
        user.last_name = last_name
    user.save()
    if not Group.objects.filter(name=role).exists():
        role_groups_sync()
    role_groups = Group.objects.filter(name__in=ROLES)
    user.groups.remove(*role_groups.exclude(name=role))
    user.groups.add(role_groups.get(name=role))
    user_role_forget(user)
    return user
