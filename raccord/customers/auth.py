"""Customers and agents log in with their email address (case-insensitive)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user_model = get_user_model()
        login = username.strip()
        user = (
            user_model.objects.filter(email__iexact=login).order_by("id").first()
            or user_model.objects.filter(username__iexact=login).order_by("id").first()
        )
        if user is None:
            user_model().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
