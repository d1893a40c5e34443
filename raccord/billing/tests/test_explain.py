"""Plain-French explanations of document lines, generated from each line's data (B9).

Most tests build lines in memory exactly as the run and the lifecycle services store them;
the last ones go through ``document_issue`` to check the sentences on real documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction

from raccord.billing.documents import document_issue
from raccord.billing.explain.document import first_invoice_summary, payment_text
from raccord.billing.explain.french import day_text, duration_text, euros, span_text
from raccord.billing.explain.lines import document_explanation, line_explanation
from raccord.billing.models import Document, DocumentLine, LineKind
from raccord.billing.services import document_credit_fully
from raccord.billing.tests.factories import VAT, first_invoice_lines, subscription_data
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.contracts.termination import early_termination_fee
from raccord.core.events import Actor
from raccord.core.money import prorata, round_half_up

NBSP = "\u00a0"
ONE_DAY = timedelta(days=1)


def fr(text: str) -> str:
    """Write expected sentences with plain spaces; the product puts no-break spaces before
    « € », « % » and « ; » (French typography)."""
    return text.replace(" €", f"{NBSP}€").replace(" %", f"{NBSP}%").replace(" ;", f"{NBSP};")


def sub_line(
    label: str, start: date, end: date, monthly: str, *, credit: bool = False, **extra
) -> DocumentLine:
    """A subscription line as the run writes it (M3: one line per calendar-month segment)."""
    amount = round_half_up(prorata(Decimal(monthly), start, end))
    return DocumentLine(
        kind=LineKind.SUBSCRIPTION_CREDIT if credit else LineKind.SUBSCRIPTION,
        product=extra.pop("product", "THD30"),
        label=label,
        period_start=start,
        period_end=end,
        amount=-amount if credit else amount,
        vat_rate=VAT,
        data=subscription_data(start, end, monthly),
        **extra,
    )


def line(kind: str, amount: str, data: dict, *, label: str = "", vat: Decimal = VAT, **extra):
    return DocumentLine(
        kind=kind, label=label, amount=Decimal(amount), vat_rate=vat, data=data, **extra
    )


# --- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("29.90", "29,90 €"),
        ("0", "0,00 €"),
        ("-9.97", "-9,97 €"),
        ("1234.5", "1\u202f234,50 €"),
    ],
)
def test_amounts_read_the_french_way__M1(amount, text):
    assert euros(Decimal(amount)) == fr(text)


def test_dates_read_the_french_way():
    assert day_text(date(2027, 1, 20)) == "20 janvier 2027"
    assert day_text(date(2027, 6, 1)) == "1er juin 2027"
    assert span_text(date(2027, 1, 20), date(2027, 1, 31)) == "du 20 au 31 janvier"
    assert span_text(date(2027, 6, 1), date(2027, 6, 4)) == "du 1er au 4 juin"
    assert span_text(date(2027, 1, 31), date(2027, 1, 31)) == "le 31 janvier"
    assert span_text(date(2027, 1, 20), date(2027, 2, 3)) == "du 20 janvier au 3 février"
    assert span_text(date(2026, 12, 20), date(2027, 1, 3)) == (
        "du 20 décembre 2026 au 3 janvier 2027"
    )


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2027, 3, 16), date(2028, 1, 19), "10 mois et 4 jours"),
        (date(2027, 3, 16), date(2027, 9, 15), "6 mois"),
        (date(2027, 3, 16), date(2027, 3, 27), "12 jours"),
        (date(2027, 3, 16), date(2027, 3, 16), "1 jour"),
        (date(2027, 1, 20), date(2027, 2, 19), "1 mois"),
    ],
)
def test_durations_count_calendar_months_then_days__C7(start, end, text):
    assert duration_text(start, end) == text


# --- subscriptions --------------------------------------------------------------------------


def test_prorata_line_shows_the_days_and_the_computation__M3_B2():
    # given the first days after an activation on 20 January
    prorata_line = sub_line("THD Radio 30", date(2027, 1, 20), date(2027, 1, 31), "29.90")
    # then
    assert line_explanation(prorata_line) == fr(
        "THD Radio 30 du 20 au 31 janvier au prorata : 12 jours sur 31 × 29,90 € = 11,57 €"
    )
    # and the amount shown is the line's own amount, computed once (M2)
    assert prorata_line.amount == Decimal("11.57")


def test_full_month_line_names_the_month__B2():
    month = sub_line("THD Radio 30", date(2027, 2, 1), date(2027, 2, 28), "29.90")
    assert line_explanation(month) == fr("THD Radio 30 pour février 2027 (mois complet) : 29,90 €")


def test_one_day_prorata_is_singular__M3():
    one = sub_line("Téléphonie", date(2027, 1, 31), date(2027, 1, 31), "5.00", product="TEL")
    assert line_explanation(one) == fr(
        "Téléphonie le 31 janvier au prorata : 1 jour sur 31 × 5,00 € = 0,16 €"
    )


def test_sentences_follow_the_data_not_a_fixed_text__M3():
    # the same kind of line in another month and at another price says other numbers
    a = sub_line("Fibre 300", date(2028, 2, 10), date(2028, 2, 29), "39.90", product="FIBRE300")
    assert line_explanation(a) == fr(
        "Fibre 300 du 10 au 29 février au prorata : 20 jours sur 29 × 39,90 € = 27,52 €"
    )


def test_credit_after_termination_says_which_days_were_already_billed__B3():
    credit = sub_line("THD Radio 30", date(2027, 9, 21), date(2027, 9, 30), "29.90", credit=True)
    assert line_explanation(credit) == fr(
        "Avoir : 10 jours déjà facturés après la fin de votre contrat (du 21 au 30 septembre) "
        "pour THD Radio 30 : 10 jours sur 30 × 29,90 € = 9,97 € en votre faveur"
    )


def test_credit_next_to_a_new_offer_is_explained_as_an_offer_change__B4():
    # given an offer change on 15 March: the old offer's days from the 15th are credited and
    # the new offer is charged from the 15th, on the same contract
    credit = sub_line(
        "THD Radio 30", date(2027, 3, 15), date(2027, 3, 31), "29.90", credit=True, contract_id=7
    )
    new = sub_line(
        "Fibre 300",
        date(2027, 3, 15),
        date(2027, 3, 31),
        "39.90",
        product="FIBRE300",
        contract_id=7,
    )
    # then
    text = line_explanation(credit, siblings=[credit, new])
    assert text.startswith("Avoir : 17 jours déjà facturés après votre changement d'offre")
    # and without the new offer on the same contract it is the end of the contract
    other_contract = sub_line(
        "Fibre 300",
        date(2027, 3, 15),
        date(2027, 3, 31),
        "39.90",
        product="FIBRE300",
        contract_id=8,
    )
    assert "après la fin de votre contrat" in line_explanation(
        credit, siblings=[credit, other_contract]
    )


def test_credit_next_to_a_withdrawal_says_withdrawal__C6():
    credit = sub_line(
        "THD Radio 30", date(2027, 1, 25), date(2027, 1, 31), "29.90", credit=True, contract_id=3
    )
    withdrawal = line(
        LineKind.WITHDRAWAL,
        "0.00",
        {"withdrawal_date": "2027-01-24", "express_start": True, "setup_fee_refunded": True},
        contract_id=3,
    )
    assert "non dus après votre rétractation (du 25 au 31 janvier)" in line_explanation(
        credit, siblings=[credit, withdrawal]
    )


# --- one-off items --------------------------------------------------------------------------


def test_setup_fee__B2():
    fee = line(
        LineKind.SETUP_FEE,
        "49.00",
        {"setup_fee": "49.00", "subsidy": "0.00", "authority": ""},
        label="Frais de mise en service",
    )
    assert line_explanation(fee) == fr("Mise en service de votre ligne (frais uniques) : 49,00 €")


def test_setup_fee_with_a_local_subsidy_names_the_authority__C1():
    fee = line(
        LineKind.SETUP_FEE,
        "50.00",
        {"setup_fee": "99.00", "subsidy": "49.00", "authority": "Conseil départemental des Vosges"},
    )
    assert line_explanation(fee) == fr(
        "Mise en service de votre ligne (frais uniques) : 99,00 €, dont 49,00 € pris en charge "
        "par Conseil départemental des Vosges, soit 50,00 €"
    )


def c11_line(*, start: date, end: date, effective: date, monthly: str, subsidised=False):
    """The C11 line exactly as the termination service queues it."""
    fee = early_termination_fee(
        monthly_price=Decimal(monthly),
        commitment_start=start,
        commitment_end=end,
        effective_date=effective,
        subsidised_equipment=subsidised,
    )
    return line(
        LineKind.EARLY_TERMINATION,
        str(fee.amount),
        {
            "effective_date": effective.isoformat(),
            "commitment_start": start.isoformat(),
            "commitment_end": end.isoformat(),
            "regime": fee.regime,
            "monthly_price": monthly,
            "segments": [s.as_data() for s in fee.segments],
        },
        label="Indemnité de résiliation anticipée",
    )


def test_early_termination_under_loi_chatel_shows_months_and_weights__C11():
    # given a 24-month commitment started in 2021 (loi Chatel), terminated effective 15 March
    # 2022: the first year is due in full, the second weighted 25 %
    fee = c11_line(
        start=date(2021, 6, 1), end=date(2023, 5, 31), effective=date(2022, 3, 15), monthly="29.90"
    )
    # the amount: 16/31 + 2 months in full, then 12 months at 25 %
    assert fee.amount == round_half_up(
        Fraction("29.90") * (Fraction(16, 31) + 2) + Fraction("29.90") * 12 / 4
    )
    # then
    assert line_explanation(fee) == fr(
        "Indemnité de résiliation anticipée : votre contrat prend fin le 15 mars 2022, avant "
        "la fin de votre engagement le 31 mai 2023 ; il restait 14 mois et 16 jours au prix de "
        "l'offre (29,90 € par mois, options non comprises) ; 2 mois et 16 jours dus en totalité "
        "(12 premiers mois d'engagement), 12 mois pondérés à 25 % (loi Chatel) ; calcul : "
        "29,90 € × (16/31 + 2) + 29,90 € × 12 × 25 %, soit 164,93 €"
    )


def test_early_termination_within_the_first_year_is_due_in_full__C11():
    fee = c11_line(
        start=date(2027, 1, 20), end=date(2028, 1, 19), effective=date(2027, 3, 15), monthly="29.90"
    )
    assert line_explanation(fee) == fr(
        "Indemnité de résiliation anticipée : votre contrat prend fin le 15 mars 2027, avant "
        "la fin de votre engagement le 19 janvier 2028 ; il restait 10 mois et 4 jours au prix "
        "de l'offre (29,90 € par mois, options non comprises) ; tous dus, car ils sont dans les "
        # the calculation can be checked: each month by the day over its own length (M3)
        "12 premiers mois de votre engagement ; calcul : 29,90 € × (16/31 + 9 + 19/31), soit "
        f"{euros(fee.amount).replace(NBSP, ' ')}"
    )


def test_early_termination_2023_regime_says_the_second_year_is_not_due__C11():
    fee = c11_line(
        start=date(2027, 1, 20),
        end=date(2029, 1, 19),
        effective=date(2027, 11, 30),
        monthly="29.90",
    )
    text = line_explanation(fee)
    assert "il restait 13 mois et 19 jours" in text
    assert "1 mois et 19 jours dus en totalité (12 premiers mois d'engagement)" in text
    # the zero-weight days are not in the stored segments, the sentence still says why
    assert "12 mois non dus (au-delà des 12 premiers mois, loi du 16 août 2022)" in text
    assert text.endswith(fr(f"soit {euros(fee.amount)}".replace(NBSP, " ")))


def test_early_termination_subsidised_equipment_weight__C11():
    fee = c11_line(
        start=date(2027, 1, 1),
        end=date(2028, 12, 31),
        effective=date(2027, 12, 31),
        monthly="39.90",
        subsidised=True,
    )
    assert fee.amount == Decimal("95.76")  # 12 months × 39,90 × 20 %
    assert fr("12 mois pondérés à 20 % (matériel subventionné") in line_explanation(fee)


def test_termination_fee__C12():
    fee = line(LineKind.TERMINATION_FEE, "30.00", {"effective_date": "2027-09-20"})
    assert line_explanation(fee) == fr(
        "Frais de résiliation prévus par votre offre (résiliation effective le 20 septembre "
        "2027) : 30,00 €"
    )


def test_non_return_fee_is_out_of_vat_scope__S2_M1():
    # as equipment.services queues it: the model's name in the label, its code in the data
    fee = line(
        LineKind.NON_RETURN_FEE,
        "150.00",
        {
            "model": "ANT",
            "serial": "ANT-0042",
            "deadline": "2027-10-20",
            "return_reference": "RM-000042",
        },
        label="Matériel non restitué : Antenne radio (n° ANT-0042)",
        vat=Decimal("0"),
    )
    assert line_explanation(fee) == fr(
        "Matériel non restitué : Antenne radio (n° ANT-0042), il devait être renvoyé au plus "
        "tard le 20 octobre 2027, référence de retour RM-000042 : 150,00 € (non soumis à TVA)"
    )
    # without a label the data still says it
    fee.label = ""
    assert line_explanation(fee).startswith(
        "Matériel non restitué à temps : ANT (n° de série ANT-0042)"
    )


def test_non_return_refund__S2():
    refund = line(
        LineKind.NON_RETURN_REFUND,
        "-150.00",
        {
            "model": "ANT",
            "serial": "ANT-0042",
            "deadline": "2027-10-20",
            "return_reference": "RM-000042",
            "returned_on": "2027-11-03",
            "deposit_date": "2027-10-29",
        },
        label="Remboursement des frais de non-restitution : Antenne radio (n° ANT-0042)",
        vat=Decimal("0"),
    )
    assert line_explanation(refund) == fr(
        "Remboursement des frais de non-restitution : Antenne radio (n° ANT-0042), matériel "
        "déposé le 29 octobre 2027 et reçu le 3 novembre 2027, référence de retour RM-000042 : "
        "150,00 € en votre faveur (non soumis à TVA)"
    )


def test_gesture_names_the_outage_its_hours_and_days__S1():
    gesture = line(
        LineKind.GESTURE,
        "-3.49",
        {
            "outage_start": "2027-06-01T08:00:00+02:00",
            "outage_end": "2027-06-04T09:00:00+02:00",
            "hours": 49,
            "days_counted": 3,
            "days_in_month": 30,
            "monthly_total": "34.90",
        },
    )
    assert line_explanation(gesture) == fr(
        "Geste commercial pour la panne du 1er au 4 juin (49 heures, 3 jours) : 3 jours sur 30 × "
        "34,90 € par mois = 3,49 € en votre faveur"
    )


def test_withdrawal_refunds_the_set_up_fee_and_says_the_days_stay_due__C6():
    # as contracts.withdrawal queues it: the refunded amount as a string
    withdrawal = line(
        LineKind.WITHDRAWAL,
        "-49.00",
        {"withdrawal_date": "2027-01-15", "express_start": True, "setup_fee_refunded": "49.00"},
        label="Rétractation : remboursement des frais de mise en service",
    )
    assert line_explanation(withdrawal) == fr(
        "Rétractation du 15 janvier 2027 : remboursement des frais de mise en service, jamais "
        "dus en cas de rétractation : 49,00 € en votre faveur. Les jours de service jusqu'au "
        "15 janvier 2027 restent dus : vous aviez demandé que le service démarre avant la fin "
        "du délai de rétractation."
    )


def test_withdrawal_without_express_start_owes_no_day__C6():
    withdrawal = line(
        LineKind.WITHDRAWAL,
        "-49.00",
        {"withdrawal_date": "2027-01-15", "express_start": False, "setup_fee_refunded": "49.00"},
    )
    text = line_explanation(withdrawal)
    assert "remboursement des frais de mise en service" in text
    assert text.endswith(
        "Aucun jour de service n'est dû : vous n'aviez pas demandé de démarrage anticipé."
    )
    # "0.00" refunded is no refund
    withdrawal.data = {**withdrawal.data, "setup_fee_refunded": "0.00"}
    assert "remboursement des frais" not in line_explanation(withdrawal)


def test_change_fee__C9():
    # as contracts.offer_change queues it: names in the label, codes in the data
    fee = line(
        LineKind.CHANGE_FEE,
        "15.00",
        {"from_offer": "THD30", "to_offer": "FIBRE300", "effective_date": "2027-03-01"},
        label="Frais de changement d'offre (THD Radio 30 → Fibre 300)",
    )
    assert line_explanation(fee) == fr(
        "Frais de changement d'offre (THD Radio 30 → Fibre 300), nouvelle offre à partir du "
        "1er mars 2027 : 15,00 €"
    )


@pytest.mark.parametrize("kind", [k.value for k in LineKind])
def test_every_kind_gets_a_sentence_even_with_missing_data__B9(kind):
    # given a line whose data lacks every key (an old or partial line)
    bare = line(kind, "12.34", {}, label="Libellé de la ligne")
    # then it still reads, with its amount, and never raises
    text = line_explanation(bare)
    assert text
    assert "12,34" in text or "12,34" in text.replace(NBSP, " ")


def test_malformed_data_degrades_the_sentence_without_failing():
    weird = line(
        LineKind.GESTURE,
        "-1.00",
        {"outage_start": "pas une date", "hours": "beaucoup", "days_counted": None},
    )
    assert line_explanation(weird) == fr("Geste commercial : 1,00 € en votre faveur")


# --- documents ------------------------------------------------------------------------------


@pytest.fixture
def customer_contract(signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))


def _issue(contract: Contract, lines: list, *, issue_date: date = date(2027, 2, 2)) -> Document:
    """The contract's customer's document with these lines, issued (2 February by default)."""
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=issue_date, lines=lines, run=None
        )


@pytest.mark.django_db
def test_first_invoice_explains_why_it_is_higher__B2(customer_contract):
    # given the first invoice after an activation on 20 January
    invoice = _issue(customer_contract, first_invoice_lines(customer_contract))
    # then
    assert first_invoice_summary(invoice) == (
        "Votre première facture est plus élevée : elle comprend les frais de mise en service, "
        "les jours entre votre première connexion le 20 janvier 2027 et la fin du mois, puis "
        "le mois en cours."
    )
    explained = document_explanation(invoice)
    assert [line.position for line, _text in explained] == [1, 2, 3, 4, 5]
    texts = [text for _line, text in explained]
    assert (
        fr("THD Radio 30 du 20 au 31 janvier au prorata : 12 jours sur 31 × 29,90 € = 11,57 €")
        in texts
    )
    assert fr("THD Radio 30 pour février 2027 (mois complet) : 29,90 €") in texts
    assert fr("Mise en service de votre ligne (frais uniques) : 49,00 €") in texts


@pytest.mark.django_db
def test_a_set_up_fee_wholly_subsidised_is_not_named_as_a_reason__B2_C1(customer_contract):
    # given a first invoice whose 49 € set-up fee the local authority pays in full (0 € line)
    lines = first_invoice_lines(customer_contract)
    lines[0] = replace(
        lines[0],
        amount=Decimal("0.00"),
        data={"setup_fee": "49.00", "subsidy": "49.00", "authority": "Conseil départemental"},
    )
    invoice = _issue(customer_contract, lines)
    # then the summary names only what makes it higher: the January days
    assert first_invoice_summary(invoice) == (
        "Votre première facture est plus élevée : elle comprend les jours entre votre "
        "première connexion le 20 janvier 2027 et la fin du mois, puis le mois en cours."
    )
    # and with February only, nothing makes it higher: no summary
    february_only = [
        line for line in lines if line.period_start is None or line.period_start.month == 2
    ]
    later = _issue(customer_contract, february_only)
    assert first_invoice_summary(later) is None


@pytest.mark.django_db
def test_activation_on_the_first_of_the_month_has_no_earlier_days__B2(customer_contract):
    lines = [
        line
        for line in first_invoice_lines(customer_contract)
        if line.period_start is None or line.period_start.month == 2
    ]
    invoice = _issue(customer_contract, lines)
    summary = first_invoice_summary(invoice)
    assert summary is not None
    assert "depuis votre première connexion le 1er février 2027" in summary
    assert "la fin du mois" not in summary


@pytest.mark.django_db
def test_later_invoices_and_credit_notes_have_no_first_invoice_summary__B2_B7(customer_contract):
    first = _issue(customer_contract, first_invoice_lines(customer_contract))
    monthly = _issue(
        customer_contract,
        [
            line
            for line in first_invoice_lines(customer_contract)
            if line.kind == LineKind.SUBSCRIPTION
        ][1:2],
        issue_date=date(2027, 3, 2),
    )
    credit = document_credit_fully(
        document=first, on=date(2027, 2, 10), reason="test", actor=Actor.system()
    )
    assert first_invoice_summary(monthly) is None
    assert credit.kind == Document.Kind.CREDIT_NOTE
    assert first_invoice_summary(credit) is None
    # and each line of the credit note says what it cancels
    texts = [text for _line, text in document_explanation(credit)]
    assert (
        fr(
            "Annulation de la ligne facturée « Mise en service de votre ligne (frais uniques) » : "
            "49,00 € en votre faveur"
        )
        in texts
    )
    assert (
        fr(
            "Annulation de la ligne facturée « THD Radio 30 pour février 2027 (mois complet) » : "
            "29,90 € en votre faveur"
        )
        in texts
    )


@pytest.mark.django_db
def test_payment_text_follows_the_payment_copied_on_the_document__P1_P5(
    customer_contract, signup_request
):
    # given a SEPA invoice issued on 2 February 2027 (debit on Friday 5 February)
    invoice = _issue(customer_contract, first_invoice_lines(customer_contract))
    assert invoice.payment["debit_date"] == "2027-02-05"
    # then before and after the debit date
    assert payment_text(invoice, today=date(2027, 2, 2)) == "sera prélevée le 5 février"
    assert payment_text(invoice, today=date(2027, 2, 5)) == "prélevée le 5 février"
    # a cheque payer is given the due date (P5)
    cheque = Document(
        kind=Document.Kind.INVOICE, payment={"method": "cheque", "due_before": "2027-02-10"}
    )
    assert payment_text(cheque, today=date(2027, 2, 2)) == "à régler avant le 10 février"
    # a credit note is refunded to the masked account
    refund = Document(
        kind=Document.Kind.CREDIT_NOTE,
        payment={"method": "refund", "iban_masked": "FR76 **** **** 0189"},
    )
    assert payment_text(refund, today=date(2027, 2, 2)) == (
        "remboursement sur votre compte FR76 **** **** 0189"
    )


@pytest.mark.django_db
def test_document_explanation_reads_prefetched_lines_without_queries__B9(
    customer_contract, django_assert_num_queries
):
    from raccord.billing.selectors import customer_documents

    _issue(customer_contract, first_invoice_lines(customer_contract))
    document = customer_documents(customer=customer_contract.customer_id).get()
    with django_assert_num_queries(0):
        explained = document_explanation(document)
        first_invoice_summary(document)
    assert len(explained) == 5
