from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from raccord.conftest import Catalogue
from raccord.core.models import OperatorProfile
from raccord.site.tests.helpers import FunnelWalker


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # The sign-up rate limit counts in the cache: each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def operator_profile(db: None) -> OperatorProfile:
    profile = OperatorProfile.get()
    profile.trade_name = "Vallée Net"
    profile.legal_name = "Vallée Net SCIC SA"
    profile.customer_service_phone = "03 88 00 00 00"
    profile.customer_service_email = "bonjour@vallee.example"
    profile.customer_service_hours = "du lundi au vendredi, 9 h – 18 h"
    profile.save()
    return profile


@pytest.fixture
def walker(client: Client, catalogue: Catalogue) -> FunnelWalker:
    return FunnelWalker(client, catalogue)
