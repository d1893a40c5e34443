"""Raccord: subscriber management for French regional internet providers."""

from raccord.celery import app as celery_app

__all__ = ["celery_app"]
