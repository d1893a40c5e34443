"""The monthly run (B1-B8, M2, M3)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection, transaction

from raccord.billing import run as run_module
from raccord.billing import run_pipeline
from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import BillingRun, Document, DocumentLine, PendingItem
from raccord.billing.run import billing_run
from raccord.billing.run_plan import month_segments, segment_cents
from raccord.billing.services import document_credit_fully, pending_item_add
from raccord.conftest import paris
from raccord.contracts.models import Subscription
from raccord.core.events import Actor
from raccord.core.money import round_half_up

pytestmark = pytest.mark.django_db
FEB = date(2027, 2, 1)


def _run(month: date, **kwargs):
    return billing_run(
        month=month, at=paris(month.year, month.month, 2, 6), render_pdfs=False, **kwargs
    )


def _lines(document: Document) -> list[tuple[str, str, str | None, str | None, str]]:
    return [
        (
            line.kind,
            line.product,
            line.period_start.isoformat() if line.period_start else None,
            line.period_end.isoformat() if line.period_end else None,
            str(line.amount),
        )
        for line in document.lines.order_by("position")
    ]


def test_integer_prorata_matches_the_exact_rule__M2_M3():
    # the run's integer arithmetic on cents equals the exact Fraction rounded once half-up
    for cents in (2990, 500, 1, 3999, 12345, 2485):
        for dim in (28, 29, 30, 31):
            for days in range(1, dim + 1):
                exact = round_half_up(Fraction(cents, 100) * days / dim)
                assert Decimal(segment_cents(cents, days, dim)) / 100 == exact, (cents, days, dim)


def test_month_segments_split_at_month_boundaries__M3():
    assert list(month_segments(date(2027, 1, 20), date(2027, 3, 3))) == [
        (date(2027, 1, 20), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2027, 3, 3)),
    ]


def test_first_invoice_is_setup_fee_plus_prorata_plus_the_month__B2_M3(signup_request, activate):
    # given a subscriber activated on 20 January with THD30 (29.90) and the TEL option (5.00)
    contract = activate(signup_request, on=date(2027, 1, 20))
    # when the January run happens (activation after 1 January: not included, B1)
    assert _run(date(2027, 1, 1)).invoices == 0
    # and the February run happens
    result = _run(FEB)
    # then one invoice dated 2 February holds set-up fee, January prorata and February
    assert (result.invoices, result.credit_notes, result.run_date) == (1, 0, date(2027, 2, 2))
    invoice = Document.objects.get()
    assert invoice.number == "F2027-000001" and invoice.issue_date == date(2027, 2, 2)
    assert _lines(invoice) == [
        ("subscription", "THD30", "2027-01-20", "2027-01-31", "11.57"),
        ("subscription", "TEL", "2027-01-20", "2027-01-31", "1.94"),
        ("subscription", "THD30", "2027-02-01", "2027-02-28", "29.90"),
        ("subscription", "TEL", "2027-02-01", "2027-02-28", "5.00"),
        ("setup_fee", "THD30", None, None, "49.00"),
    ]
    assert invoice.total == Decimal("97.41") == sum(line.amount for line in invoice.lines.all())
    line = invoice.lines.get(product="THD30", period_start=date(2027, 1, 20))
    assert line.data == {
        "days": 12,
        "days_in_month": 31,
        "monthly_price": "29.90",
        "full_month": False,
    }
    # VAT per rate: net = round(gross / 1.2), vat = gross - net (M2)
    assert invoice.vat_breakdown == [
        {"rate": "0.2000", "net": "81.18", "vat": "16.23", "gross": "97.41"}
    ]
    # the payment is the SEPA debit of 5 February with the masked IBAN (B9, P1)
    assert invoice.payment["method"] == "sepa" and invoice.payment["debit_date"] == "2027-02-05"
    assert invoice.payment["iban_masked"] == "FR76 **** **** 0189"
    assert invoice.contracts == [
        {"reference": contract.reference, "offer": "THD Radio 30", "commitment_end": "2028-01-19"}
    ]
    assert (
        invoice.seller["legal_name"] and invoice.buyer["reference"] == contract.customer.reference
    )


def test_a_run_dated_in_the_past_ends_on_its_own_clock(signup_request, activate):
    # the demo and the simulator run months in the past: the run must not seem to last till now
    activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    run = BillingRun.objects.get()
    assert run.started_at == paris(2027, 2, 2, 6)
    assert run.finished_at is not None
    assert timedelta(0) <= run.finished_at - run.started_at < timedelta(minutes=5)


def test_running_a_month_again_issues_nothing_and_the_next_month_bills_the_month__B8(
    signup_request, activate
):
    activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    BillingRun.objects.update(status=BillingRun.Status.RUNNING)  # even an unfinished-looking run
    _run(FEB)
    assert Document.objects.count() == 1
    _run(date(2027, 3, 1))
    march = Document.objects.get(issue_date=date(2027, 3, 2))
    assert march.number == "F2027-000002"
    assert march.total == Decimal("34.90")
    assert not march.lines.filter(kind="setup_fee").exists()


def test_termination_bills_up_to_e_and_credits_the_days_after__B3_B6(signup_request, activate):
    contract = activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    _run(date(2027, 3, 1))
    # terminated on 15 March after March was billed in advance
    Subscription.objects.filter(contract=contract).update(end_date=date(2027, 3, 15))
    result = _run(date(2027, 4, 1))
    assert (result.invoices, result.credit_notes) == (0, 1)
    credit = Document.objects.get(kind="credit_note")
    assert credit.number == "A2027-000001"
    # 16 days of March (16..31) credited: 29.90×16/31 = 15.43 and 5×16/31 = 2.58
    assert sorted(_lines(credit)) == [
        ("subscription_credit", "TEL", "2027-03-16", "2027-03-31", "-2.58"),
        ("subscription_credit", "THD30", "2027-03-16", "2027-03-31", "-15.43"),
    ]
    assert credit.total == Decimal("-18.01")
    assert {line.data["reason"] for line in credit.lines.all()} == {"end"}
    assert credit.payment == {"method": "refund", "iban_masked": "FR76 **** **** 0189"}
    # nothing more afterwards
    assert _run(date(2027, 5, 1)).invoices == _run(date(2027, 5, 1)).credit_notes == 0


def test_termination_before_the_run_bills_only_up_to_e__B3(signup_request, activate):
    contract = activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    Subscription.objects.filter(contract=contract).update(end_date=date(2027, 3, 10))
    _run(date(2027, 3, 1))
    march = Document.objects.get(issue_date=date(2027, 3, 2))
    assert sorted(_lines(march)) == [
        ("subscription", "TEL", "2027-03-01", "2027-03-10", "1.61"),
        ("subscription", "THD30", "2027-03-01", "2027-03-10", "9.65"),
    ]


def test_offer_change_credits_the_old_offer_and_charges_the_new_from_d__B4(
    signup_request, activate, catalogue
):
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    _run(FEB)
    # offer change effective 10 February: old offer ends 9 February, new one from the 10th
    Subscription.objects.filter(contract=contract).update(end_date=date(2027, 2, 9))
    Subscription.objects.create(
        contract=contract,
        kind="offer",
        product="FIBRE300",
        label="Fibre 300",
        monthly_price=Decimal("39.90"),
        vat_rate=Decimal("0.20"),
        start_date=date(2027, 2, 10),
    )
    _run(date(2027, 3, 1))
    march = Document.objects.get(issue_date=date(2027, 3, 2))
    assert sorted(_lines(march)) == [
        ("subscription", "FIBRE300", "2027-02-10", "2027-02-28", "27.08"),  # 39.90×19/28
        ("subscription", "FIBRE300", "2027-03-01", "2027-03-31", "39.90"),
        ("subscription_credit", "THD30", "2027-02-10", "2027-02-28", "-20.29"),  # 29.90×19/28
    ]
    assert march.total == Decimal("46.69")
    credit_line = march.lines.get(kind="subscription_credit")
    assert credit_line.data["reason"] == "offer_change"


def test_pending_items_wait_for_the_first_run_on_or_after_their_date__B5(signup_request, activate):
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    pending_item_add(
        contract=contract,
        kind="gesture",
        label="Geste commercial",
        amount=Decimal("-2.89"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 2, 2),
        key="g1",
    )
    later = pending_item_add(
        contract=contract,
        kind="termination_fee",
        label="Frais de résiliation",
        amount=Decimal("30.00"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 2, 3),
    )
    # the same key queues nothing more
    pending_item_add(
        contract=contract,
        kind="gesture",
        label="Geste commercial",
        amount=Decimal("-2.89"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 2, 2),
        key="g1",
    )
    _run(FEB)
    feb = Document.objects.get()
    assert ("gesture", "", None, None, "-2.89") in _lines(feb)
    assert not feb.lines.filter(kind="termination_fee").exists()
    later.refresh_from_db()
    assert later.document is None
    _run(date(2027, 3, 1))
    later.refresh_from_db()
    assert later.document is not None and later.document.issue_date == date(2027, 3, 2)
    assert PendingItem.objects.filter(document__isnull=True).count() == 0


def test_a_negative_total_makes_a_credit_note_and_numbering_is_per_series__B6_B7(
    signup_request, activate
):
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    _run(FEB)
    pending_item_add(
        contract=contract,
        kind="gesture",
        label="Geste",
        amount=Decimal("-100.00"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 2, 20),
    )
    _run(date(2027, 3, 1))
    assert list(Document.objects.order_by("id").values_list("kind", "number")) == [
        ("invoice", "F2027-000001"),
        ("credit_note", "A2027-000001"),
    ]
    assert Document.objects.get(kind="credit_note").total == Decimal("-70.10")


def test_dry_run_writes_nothing(signup_request, activate):
    activate(signup_request, on=date(2027, 1, 20))
    result = _run(FEB, dry_run=True)
    assert (result.invoices, result.total_invoiced) == (1, Decimal("97.41"))
    assert Document.objects.count() == 0 and BillingRun.objects.count() == 0
    assert Subscription.objects.filter(billed_through__isnull=False).count() == 0


def _interrupted_run_resumes(signup_request, activate, monkeypatch) -> None:
    for _ in range(5):
        activate(signup_request, on=date(2027, 1, 20))
    real_store = run_pipeline.documents_store
    calls = {"n": 0}

    def crashing_store(built):
        calls["n"] += 1
        documents = real_store(built)
        if calls["n"] == 2:
            raise RuntimeError("worker killed after numbering, before commit")
        return documents

    monkeypatch.setattr(run_pipeline, "documents_store", crashing_store)
    with pytest.raises(RuntimeError):
        _run(FEB, batch_size=2)
    # the first batch committed, the second rolled back, nothing written after it
    assert Document.objects.count() == 2
    assert calls["n"] == 2
    monkeypatch.setattr(run_pipeline, "documents_store", real_store)
    result = _run(FEB, batch_size=2)
    assert result.invoices == 5
    numbers = list(Document.objects.order_by("id").values_list("number", flat=True))
    assert numbers == [f"F2027-{n:06d}" for n in range(1, 6)]
    assert Document.objects.values("customer").distinct().count() == 5
    assert BillingRun.objects.get().status == "done"


def test_a_run_interrupted_mid_way_resumes_and_issues_every_document_once__B8(
    signup_request, activate, monkeypatch
):
    _interrupted_run_resumes(signup_request, activate, monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_the_pipelined_run_writes_in_order_and_stops_at_a_failed_batch__B7_B8(
    signup_request, activate, monkeypatch
):
    """On PostgreSQL outside a transaction, batches are written by two writer threads while the
    next is computed: same documents, same gapless numbers, and a failed write stops the run:
    the batch written meanwhile by the other thread rolls back, its subscriptions' updates
    too (else the resumed run would not bill them: 5 invoices below)."""
    if connection.vendor != "postgresql":
        pytest.skip("the writer threads are used on PostgreSQL only")
    submitted = {"n": 0}
    real_submit = run_pipeline._Writer.submit
    writes: list[bool] = []
    real_write = run_module._write

    def counting_submit(self, fn):
        submitted["n"] += 1
        return real_submit(self, fn)

    def recording_write(*args, after=None, **kwargs):
        writes.append(after is not None)
        return real_write(*args, after=after, **kwargs)

    monkeypatch.setattr(run_pipeline._Writer, "submit", counting_submit)
    # the name _batch looks up, in run (run_pipeline defines it)
    monkeypatch.setattr(run_module, "_write", recording_write)
    _interrupted_run_resumes(signup_request, activate, monkeypatch)
    # the failed run handed over its 3 batches (the third written while the second failed,
    # then rolled back), the resumed one the 2 left
    assert submitted["n"] == 5
    assert writes[:3] == [False, True, True]


@pytest.mark.django_db(transaction=True)
def test_a_pipelined_run_that_fails_raises_its_error_and_leaves_no_thread_behind__B8(
    signup_request, activate, monkeypatch
):
    """A failure mid-run (more batches still to read and write) reaches the caller as itself,
    and the reader and writer threads end with their connections, in a long-lived worker too."""
    import gc
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("the pipeline's threads are used on PostgreSQL only")
    for _ in range(8):
        activate(signup_request, on=date(2027, 1, 20))
    real_store = run_pipeline.documents_store
    calls = {"n": 0}

    def crashing_store(built):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full while writing the second batch")
        return real_store(built)

    monkeypatch.setattr(run_pipeline, "documents_store", crashing_store)
    with pytest.raises(RuntimeError, match="disk full while writing the second batch"):
        _run(FEB, batch_size=1)
    # the first batch only, the rest not even numbered
    assert Document.objects.count() == 1
    assert calls["n"] == 2
    gc.collect()
    assert [t.name for t in threading.enumerate() if t.name.startswith("billing-")] == []


def test_the_runs_queries_do_not_grow_with_the_number_of_subscribers(signup_request, activate):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        activate(signup_request, on=date(2027, 1, 20))
    with CaptureQueriesContext(conn) as small:
        _run(FEB)
    for _ in range(12):
        activate(signup_request, on=date(2027, 2, 20))
    with CaptureQueriesContext(conn) as large:
        _run(date(2027, 3, 1))
    assert Document.objects.filter(issue_date=date(2027, 3, 2)).count() == 15
    # (the first run also creates the operator profile and the number series once)
    assert len(large.captured_queries) <= len(small.captured_queries)
    # a batch costs a small constant number of queries (COPY streams on PostgreSQL)
    assert len(large.captured_queries) < 40


def test_a_fully_credited_invoice_gets_one_credit_note_referencing_it__B7_C5(
    signup_request, activate
):
    activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    invoice = Document.objects.get()
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 10), reason="inéligible", actor=Actor.system()
    )
    again = document_credit_fully(
        document=invoice, on=date(2027, 2, 11), reason="inéligible", actor=Actor.system()
    )
    assert credit.pk == again.pk and credit.corrects == invoice
    assert credit.kind == "credit_note" and credit.total == -invoice.total
    assert credit.number == "A2027-000001"


def test_issued_documents_never_change_nor_disappear(signup_request, activate):
    activate(signup_request, on=date(2027, 1, 20))
    _run(FEB)
    invoice = Document.objects.get()
    invoice.total = Decimal("1.00")
    with pytest.raises(ValueError):
        invoice.save()
    with pytest.raises(ValueError):
        invoice.delete()
    assert DocumentLine.objects.filter(document=invoice).count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_number_without_gaps_in_issue_order__B7(signup_request, activate):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("in-memory SQLite is one connection; the PostgreSQL run checks the locking")
    contract = activate(signup_request, on=date(2027, 1, 20))
    customer_id = contract.customer_id

    def worker() -> None:
        try:
            for _ in range(10):
                with transaction.atomic():
                    document_issue(
                        customer_id=customer_id,
                        issue_date=date(2027, 2, 2),
                        run=None,
                        lines=[
                            DraftLine(
                                contract_id=None,
                                kind="gesture",
                                product="",
                                label="x",
                                period_start=None,
                                period_end=None,
                                amount=Decimal("1.00"),
                                vat_rate=Decimal("0.20"),
                            )
                        ],
                    )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = list(Document.objects.order_by("id").values_list("number", flat=True))
    assert numbers == [f"F2027-{n:06d}" for n in range(1, 41)]


def test_the_run_task_runs_the_month_and_is_safe_to_deliver_twice(
    signup_request, activate, operator_identity
):
    from raccord.billing.tasks_run import billing_run_task

    activate(signup_request, on=date(2027, 1, 20))
    first = billing_run_task.delay("2027-02-01").get()
    second = billing_run_task.delay("2027-02-01").get()
    assert first == second and first["invoices"] == 1
    assert Document.objects.count() == 1


def test_crediting_one_contract_leaves_the_other_contract_billed__C5(signup_request, activate):
    first = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    # a second line for the same customer, on the same invoice
    second = activate(signup_request, on=date(2027, 1, 25), option_codes=[])
    from raccord.contracts.models import Contract

    Contract.objects.filter(pk=second.pk).update(customer=first.customer)
    Subscription.objects.filter(contract=second).update(customer=first.customer)
    _run(FEB)
    invoice = Document.objects.get(customer=first.customer)
    from raccord.billing.services import document_credit_contract

    credit = document_credit_contract(
        document=invoice,
        contract=second,
        on=date(2027, 2, 10),
        reason="inéligible",
        actor=Actor.system(),
    )
    again = document_credit_contract(
        document=invoice,
        contract=second,
        on=date(2027, 2, 11),
        reason="inéligible",
        actor=Actor.system(),
    )
    assert credit.pk == again.pk
    billed_second = sum(line.amount for line in invoice.lines.filter(contract=second))
    assert credit.total == -billed_second
    assert set(credit.lines.values_list("contract_id", flat=True)) == {second.pk}


def test_shards_share_a_run_and_a_last_pass_closes_it__B7_B8(signup_request, activate):
    for _ in range(6):
        activate(signup_request, on=date(2027, 1, 20))
    # two workers, each every other batch of one customer
    _run(FEB, batch_size=1, shard=(1, 2))
    assert Document.objects.count() == 3
    assert BillingRun.objects.get().status == "running"
    _run(FEB, batch_size=1, shard=(0, 2))
    assert Document.objects.count() == 6
    result = _run(FEB, batch_size=1)
    assert (result.invoices, BillingRun.objects.get().status) == (6, "done")
    assert Document.objects.values("customer").distinct().count() == 6
    numbers = list(Document.objects.order_by("id").values_list("number", flat=True))
    assert numbers == [f"F2027-{n:06d}" for n in range(1, 7)]


def test_the_invoice_names_the_mandate_its_debit_uses__P4(signup_request, activate):
    from raccord.payments.models import Mandate

    # given a SEPA subscriber whose bank details change on 26 January (after the 24th cut-off:
    # the new mandate applies from the debit of March, X+2)
    contract = activate(signup_request, on=date(2027, 1, 20))
    old = contract.mandate
    new = Mandate.objects.create(
        reference="RUM-NEW-000001",
        customer=contract.customer,
        debtor_name=old.debtor_name,
        iban="FR7630004000000001234567845",
        bic="BNPAFRPP",
        signature_date=date(2027, 1, 26),
        signed_at=paris(2027, 1, 26),
        signature_method=Mandate.SignatureMethod.ONLINE,
        status=Mandate.Status.PENDING,
        applies_from=date(2027, 3, 1),
        replaces=old,
    )
    # when February and March are billed
    _run(FEB)
    _run(date(2027, 3, 1))
    february, march = Document.objects.order_by("issue_date")
    # then February's invoice (debited on 5 February) still names the old mandate and account
    assert february.payment["mandate"] == old.reference
    assert february.payment["iban_masked"] == "FR76 **** **** 0189"
    # and March's names the new one, although the contract still points at the old mandate
    assert march.payment["debit_date"] == "2027-03-05"
    assert march.payment["mandate"] == new.reference != old.reference
    assert march.payment["iban_masked"] == "FR76 **** **** 7845"
    contract.refresh_from_db()
    assert contract.mandate_id == old.pk


def test_without_a_mandate_in_force_the_contracts_mandate_is_named__P4(signup_request, activate):
    from raccord.payments.models import Mandate

    # given a subscriber whose only mandate was revoked (no mandate in force for February)
    contract = activate(signup_request, on=date(2027, 1, 20))
    Mandate.objects.filter(pk=contract.mandate_id).update(status=Mandate.Status.REVOKED)
    _run(FEB)
    # then the invoice still says which mandate and account the contract was signed with
    invoice = Document.objects.get()
    assert invoice.payment["mandate"] == contract.mandate.reference
    assert invoice.payment["iban_masked"] == "FR76 **** **** 0189"


@pytest.mark.parametrize("method", ["sepa", "cheque"])
def test_a_zero_total_invoice_has_no_debit_date_nor_due_date__B6_P1_P5(
    signup_request, activate, method
):
    # given a subscriber whose subscription ended with February, already billed
    overrides = {"payment_method": "cheque", "iban": ""} if method == "cheque" else {}
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[], **overrides)
    _run(FEB)
    Subscription.objects.filter(contract=contract).update(end_date=date(2027, 2, 28))
    # and a non-return fee refunded before it was billed (S2): both wait for the March run
    for kind, amount in (("non_return_fee", "150.00"), ("non_return_refund", "-150.00")):
        pending_item_add(
            contract=contract,
            kind=kind,
            label="Antenne radio",
            amount=Decimal(amount),
            vat_rate=Decimal("0.20"),
            created_on=date(2027, 2, 20),
        )
    # when March is billed
    _run(date(2027, 3, 1))
    # then the March invoice totals 0.00 (an invoice, B6) and nothing is debited nor owed
    march = Document.objects.get(issue_date=date(2027, 3, 2))
    assert (march.kind, march.total, march.lines.count()) == ("invoice", Decimal("0.00"), 2)
    assert march.payment_method == method and march.due_date is None
    if method == "sepa":
        assert march.payment["debit_date"] is None
        assert march.payment["mandate"] == contract.mandate.reference
    else:
        assert march.payment == {"method": "cheque", "due_before": None}
    # while February's invoice, which is owed, has its date as a column (P2, P5 find it)
    february = Document.objects.get(issue_date=date(2027, 2, 2))
    assert february.due_date == date(2027, 2, 5 if method == "sepa" else 10)


def test_an_invoice_never_has_a_negative_total__B6(signup_request, activate):
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    gesture = DraftLine(
        contract_id=contract.pk,
        kind="gesture",
        product="",
        label="Geste",
        period_start=None,
        period_end=None,
        amount=Decimal("-5.00"),
        vat_rate=Decimal("0.20"),
    )
    with pytest.raises(ValueError, match="cannot total"), transaction.atomic():
        document_issue(
            customer_id=contract.customer_id,
            issue_date=date(2027, 2, 2),
            lines=[gesture],
            run=None,
            force_kind="invoice",
        )
    assert Document.objects.count() == 0
    # without forcing, the same lines make a credit note
    with transaction.atomic():
        credit = document_issue(
            customer_id=contract.customer_id, issue_date=date(2027, 2, 2), lines=[gesture], run=None
        )
    assert (credit.kind, credit.number, credit.due_date) == ("credit_note", "A2027-000001", None)


def test_copies_and_labels_keep_every_character_through_the_bulk_write__B9(
    signup_request, activate
):
    from raccord.customers.models import Customer

    # given names, an address and a label holding what the bulk write must escape: quotes,
    # backslashes, tabs, line breaks, accents and a character outside the BMP
    awkward = 'Zoé "Z" \\N \\ \t end'
    contract = activate(signup_request, on=date(2027, 1, 20), option_codes=[])
    Customer.objects.filter(pk=contract.customer_id).update(
        first_name=awkward, last_name="O'Brien\nSmith", postal_address="1\\2 rue\r\ndes Écoles 🏠"
    )
    pending_item_add(
        contract=contract,
        kind="gesture",
        label="Geste\tcommercial \\ « panne » \\N",
        amount=Decimal("-1.00"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 2, 1),
        data={"note": 'a\\b\t"c"\n', "hours": 49},
    )
    # when the run writes the invoice
    _run(FEB)
    invoice = Document.objects.get()
    # then the copies read back exactly
    assert invoice.buyer["name"] == f"{awkward} O'Brien\nSmith"
    assert invoice.buyer["address"] == "1\\2 rue\r\ndes Écoles 🏠"
    gesture = invoice.lines.get(kind="gesture")
    assert gesture.label == "Geste\tcommercial \\ « panne » \\N"
    assert gesture.data == {"note": 'a\\b\t"c"\n', "hours": 49}
    assert invoice.contracts[0]["reference"] == contract.reference
    assert invoice.payment["mandate"] == contract.mandate.reference


def test_the_json_copies_written_directly_are_the_encoders_json():
    import json

    from raccord.billing import documents_copies

    texts = ["", 'é "q" \\ \t\n\r\x01 🏠', "FR76 **** **** 0189"]
    for text in texts:
        buyer = {
            "reference": text,
            "name": text,
            "address": text,
            "postal_code": "67000",
            "city": text,
            "email": text,
        }
        assert json.loads(documents_copies._buyer_json(**buyer)) == buyer
        for end in (None, date(2028, 1, 19)):
            assert json.loads(documents_copies._contract_json(text, text, end)) == {
                "reference": text,
                "offer": text,
                "commitment_end": end.isoformat() if end else None,
            }
        payments: list[dict[str, str | None]] = [
            {"method": "sepa", "debit_date": None, "mandate": text, "iban_masked": text},
            {"method": "sepa", "debit_date": "2027-02-05", "mandate": text, "iban_masked": ""},
            {"method": "cheque", "due_before": None},
            {"method": "cheque", "due_before": "2027-02-10"},
            {"method": "refund", "iban_masked": text},
        ]
        for payment in payments:
            assert json.loads(documents_copies._payment_json(payment)) == payment
