from typing import Any

from django.http import HttpRequest

from raccord.core.models import OperatorProfile


def operator(request: HttpRequest) -> dict[str, Any]:
    """The operator's identity for every page (name, contacts, mediator), fetched lazily."""
    cache: dict[str, OperatorProfile] = {}

    def _get() -> OperatorProfile:
        if "profile" not in cache:
            cache["profile"] = OperatorProfile.get()
        return cache["profile"]

    class _Lazy:
        def __getattr__(self, name: str) -> Any:
            return getattr(_get(), name)

    return {"operator": _Lazy()}
