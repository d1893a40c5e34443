"""Mes factures says how each document really stands, from the payments app's own status of
it (P1, P5, P6, B9): a rejected debit is to pay, a paid cheque invoice is paid, a coming debit
is planned; the cheque instructions only while the invoice is unpaid."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from django.urls import reverse

from raccord.billing.tests.factories import first_invoice, monthly_invoice
from raccord.contracts.models import Contract
from raccord.core.models import OperatorProfile
from raccord.portal.tests.payment_states import pay_by_cheque, reject_debit, settle_by_debit

INVOICES = reverse("portal:invoices")
PAYMENTS = reverse("portal:payments")


def _text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _detail(client, document) -> str:
    return _text(client.get(reverse("portal:invoice_detail", args=[document.pk])))


def _pay_by_cheque(contract: Contract) -> None:
    Contract.objects.filter(pk=contract.pk).update(payment_method="cheque", mandate=None)


def _row(page: str, number: str) -> str:
    start = page.index(f'data-document="{number}"')
    return page[start : page.index("</tr>", start)]


def test_a_rejected_debit_says_what_is_left_to_pay__P6(logged_in, contract, clock):
    # given the debit of 5 February rejected by the bank (AM04)
    invoice = first_invoice(contract)
    reject_debit(invoice, reason="AM04")
    clock.current = clock.current.replace(month=2, day=12)
    amount = f"{invoice.total:.2f}".replace(".", ",") + " €"
    # when / then: the list and the document say it, with the way to Mes paiements
    row = _row(_text(logged_in.get(INVOICES)), invoice.number)
    detail = _detail(logged_in, invoice)
    for page in (row, detail):
        assert f"Prélèvement du 5 février rejeté : {amount} à régler" in page
        assert "Prélevée le 5 février" not in page
    assert f'href="{PAYMENTS}">Régler dans Mes paiements</a>' in row
    assert f'href="{PAYMENTS}">Comment régler : voir Mes paiements</a>' in detail
    # the account debited is no longer named as if the debit had worked
    assert invoice.payment["iban_masked"] not in detail


def test_a_debit_invoice_paid_by_cheque_after_its_rejection_says_so__P6(logged_in, contract, clock):
    invoice = first_invoice(contract)
    reject_debit(invoice)
    pay_by_cheque(invoice, on=date(2027, 2, 14))
    clock.current = clock.current.replace(month=2, day=20)
    detail = _detail(logged_in, invoice)
    assert "Payée le 14 février (chèque)" in detail
    assert "rejeté" not in detail.split("Payée le 14 février")[1][:200]
    assert invoice.payment["iban_masked"] not in detail


def test_a_partly_paid_cheque_invoice_says_what_is_left__P5(logged_in, contract, clock):
    _pay_by_cheque(contract)
    invoice = first_invoice(contract)
    pay_by_cheque(invoice, on=date(2027, 2, 3), amount=Decimal("10.00"))
    clock.current = clock.current.replace(month=2, day=4)
    left = f"{invoice.total - Decimal('10.00'):.2f}".replace(".", ",") + " €"
    row = _row(_text(logged_in.get(INVOICES)), invoice.number)
    assert f"Reste {left} à régler avant le 10 février" in row


def test_a_settled_debit_says_debited__P1(logged_in, contract, clock):
    invoice = first_invoice(contract)
    settle_by_debit(invoice)
    clock.current = clock.current.replace(month=2, day=12)
    row = _row(_text(logged_in.get(INVOICES)), invoice.number)
    assert "Prélevée le 5 février" in row
    assert f'href="{PAYMENTS}"' not in row


def test_a_coming_debit_is_planned__P1(logged_in, contract, clock):
    invoice = first_invoice(contract)
    assert "Prélèvement prévu le 5 février" in _detail(logged_in, invoice)


def test_a_paid_cheque_invoice_says_paid_without_the_instructions__P5(logged_in, contract, clock):
    # given a cheque invoice, due before 10 February, paid by a cheque received on 7 February
    _pay_by_cheque(contract)
    OperatorProfile.objects.filter(pk=OperatorProfile.get().pk).update(
        billing_address="12 rue des Lilas, 33000 Bordeaux"
    )
    invoice = first_invoice(contract)
    pay_by_cheque(invoice, on=date(2027, 2, 7))
    clock.current = clock.current.replace(month=2, day=8)
    # then
    row = _row(_text(logged_in.get(INVOICES)), invoice.number)
    assert "Payée le 7 février (chèque)" in row
    assert "À régler avant" not in row
    detail = _detail(logged_in, invoice)
    assert "Payée le 7 février (chèque)" in detail
    assert "À régler avant" not in detail
    assert "Chèque à l'ordre de" not in detail


def test_an_unpaid_cheque_invoice_names_the_payee__P5(logged_in, contract, clock):
    # given an unpaid cheque invoice (the payee was left blank: a variable blocktranslate
    # cannot read with a dot)
    _pay_by_cheque(contract)
    OperatorProfile.objects.filter(pk=OperatorProfile.get().pk).update(
        legal_name="Raccord Télécom SAS", billing_address="12 rue des Lilas, 33000 Bordeaux"
    )
    invoice = first_invoice(contract)
    detail = _detail(logged_in, invoice)
    assert "À régler avant le 10 février" in detail
    assert (
        "Chèque à l'ordre de Raccord Télécom SAS, à envoyer à : 12 rue des Lilas, 33000 Bordeaux"
        in detail
    )


def test_a_late_cheque_invoice_says_the_due_date_is_past__P5(logged_in, contract, clock):
    _pay_by_cheque(contract)
    invoice = first_invoice(contract)
    clock.current = clock.current.replace(month=2, day=15)
    row = _row(_text(logged_in.get(INVOICES)), invoice.number)
    amount = f"{invoice.total:.2f}".replace(".", ",") + " €"
    assert f"{amount} à régler, échéance du 10 février dépassée" in row
    assert "À régler avant" not in row


def test_the_list_with_payments_costs_the_same_queries_for_2_or_12_documents__B9(
    logged_in, contract, clock, django_assert_max_num_queries
):
    # given paid, rejected and coming invoices
    first = first_invoice(contract)
    settle_by_debit(first)
    reject_debit(monthly_invoice(contract, 3))
    logged_in.get(INVOICES)  # warm the caches shared by every page (operator, policy)
    with django_assert_max_num_queries(9) as few:
        logged_in.get(INVOICES)
    for month in range(4, 13):
        invoice = monthly_invoice(contract, month)
        (settle_by_debit if month % 2 else reject_debit)(invoice)
    with django_assert_max_num_queries(9) as many:
        page = _text(logged_in.get(INVOICES))
    assert page.count("rejeté") >= 5 and page.count("Prélevée le") >= 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_tables_scroll_boxes_are_reachable_by_keyboard(logged_in, contract, clock):
    invoice = first_invoice(contract)
    for page in (_text(logged_in.get(INVOICES)), _detail(logged_in, invoice)):
        assert page.count('class="table-wrap"') == page.count(
            'class="table-wrap" tabindex="0" role="region" aria-'
        )
        assert 'class="table-wrap" tabindex="0"' in page
