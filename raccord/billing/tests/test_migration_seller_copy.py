"""Migration 0006: documents issued before it keep printing exactly the seller they printed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from raccord.conftest import paris

BEFORE = [("billing", "0005_document_cheaper_rows")]
AFTER = [("billing", "0006_seller_copy")]


@pytest.mark.django_db(transaction=True)
def test_each_document_keeps_the_seller_it_printed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    customer = old.get_model("customers", "Customer").objects.create(
        reference="C000001",
        first_name="Camille",
        last_name="Martin",
        email="c@example.org",
        created_at=paris(2027, 1, 5),
    )
    Document = old.get_model("billing", "Document")
    sellers = [
        {"legal_name": "Vallées Connectées SAS", "siren": "912345678"},
        {"legal_name": "Vallées Connectées SAS", "siren": "912345678"},
        {"legal_name": "Vallées Connectées SA (nouvelle raison sociale)", "siren": "912345678"},
    ]
    for n, seller in enumerate(sellers, start=1):
        Document.objects.create(
            kind="invoice",
            number=f"F2027-{n:06d}",
            issue_date=date(2027, 3, 2),
            customer=customer,
            total=Decimal("29.90"),
            seller=seller,
        )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Document = new.get_model("billing", "Document")
    printed = [
        d.seller_copy.data for d in Document.objects.select_related("seller_copy").order_by("pk")
    ]
    assert printed == sellers
    # two distinct sellers, stored once each
    assert new.get_model("billing", "SellerCopy").objects.count() == 2
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
