"""Which mandate a debit uses (P4), and the mandates' life (bank-details change, P7 lapse).

P4: a change signed on day 1 to ``bank_change_cutoff_day`` (24) of month X applies from the debit
of month X+1; later in the month, from the debit of X+2. The mandate signed at sign-up applies
from the first debit (``applies_from`` null)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Policy
from raccord.core.sequences import sequence_next
from raccord.customers.models import Customer
from raccord.payments.calendar import debit_date_of_month
from raccord.payments.iban import iban_check
from raccord.payments.models import Debit, Mandate

PARIS = ZoneInfo("Europe/Paris")

# Mandates that may still be used for a debit of some month.
USABLE = (Mandate.Status.PENDING, Mandate.Status.ACTIVE, Mandate.Status.AMENDED)


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def mandate_applies_from(*, signed_on: date, policy: Policy | None = None) -> date:
    """P4: the first day of the first month whose debit uses a mandate signed on ``signed_on``
    to replace another one."""
    policy = policy or Policy.get()
    months = 1 if signed_on.day <= policy.bank_change_cutoff_day else 2
    return _month_add(signed_on, months)


# The columns ``mandate_rows_in_force`` yields, in order.
MANDATE_ROW = (
    "customer_id",
    "pk",
    "reference",
    "debtor_name",
    "iban",
    "bic",
    "signature_date",
    "last_debit_date",
    "applies_from",
)


def _usable(month: date) -> QuerySet[Mandate]:
    return Mandate.objects.filter(status__in=USABLE).exclude(applies_from__gt=month.replace(day=1))


def _newer(candidate: date | None, current: date | None) -> bool:
    return (candidate or date.min) >= (current or date.min)


def mandates_in_force(
    *, month: date, customer_ids: Iterable[int] | None = None
) -> dict[int, Mandate]:
    """For each customer, the mandate the debit of ``month`` uses (P4): of the mandates not
    revoked nor lapsed, the one with the latest ``applies_from`` not after that month (a mandate
    signed at sign-up, with none, counts from the start); the newest first among equals."""
    query = _usable(month)
    if customer_ids is not None:
        query = query.filter(customer_id__in=list(customer_ids))
    result: dict[int, Mandate] = {}
    for mandate in query.order_by("customer_id", "id"):
        current = result.get(mandate.customer_id)
        if current is None or _newer(mandate.applies_from, current.applies_from):
            result[mandate.customer_id] = mandate
    return result


def mandate_rows_in_force(
    *, month: date, customer_low: int, customer_high: int
) -> dict[int, tuple[object, ...]]:
    """The same choice as ``mandates_in_force`` for the customers whose id is in
    ``[customer_low, customer_high]``, as tuples of ``MANDATE_ROW`` (no model instances): what
    the debit file reads batch by batch for a million customers."""
    rows = (
        _usable(month)
        .filter(customer_id__gte=customer_low, customer_id__lte=customer_high)
        .order_by("customer_id", "id")
        .values_list(*MANDATE_ROW)
    )
    result: dict[int, tuple[object, ...]] = {}
    for row in rows:
        current = result.get(row[0])
        if current is None or _newer(row[8], current[8]):  # type: ignore[arg-type]
            result[row[0]] = row
    return result


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def mandate_first_debit(*, mandate: Mandate, policy: Policy | None = None) -> date | None:
    """The date of the first debit a pending mandate is used for (P1 applied to the debit day of
    its ``applies_from`` month); None for a mandate in force from the start."""
    if mandate.applies_from is None:
        return None
    policy = policy or Policy.get()
    return debit_date_of_month(
        year=mandate.applies_from.year, month=mandate.applies_from.month, debit_day=policy.debit_day
    )


def _sepa_contracts(customer_id: int) -> QuerySet[Contract]:

    return Contract.objects.filter(customer_id=customer_id, payment_method="sepa")


@transaction.atomic
def mandate_change(
    *,
    customer: Customer,
    iban: str,
    debtor_name: str,
    signed_at: datetime,
    method: str,
    ip: str | None,
    actor: Actor,
    on: date | None = None,
) -> Mandate:
    """A bank-details change (P4): a new mandate, PENDING until the debit month it applies from,
    when ``mandates_daily_run`` puts it in force and points the SEPA contracts to it.

    ``signed_at`` is the signature (online: now; by phone: now; paper: the date written on the
    signed form). ``on`` is the day the change reaches the operator (default: the signature
    day): P4 counts from the later of the two, so a paper form posted on the 20th and recorded
    on the 27th applies from month X+2, like any change made after the 24th.

    The IBAN is checked with its French RIB key. Idempotent: the same IBAN and holder signed the
    same day return the mandate already recorded."""
    checked = iban_check(iban)
    holder = " ".join((debtor_name or "").split())
    if not holder:
        raise DomainError("Indiquez le titulaire du compte.", field="debtor_name")
    if len(holder) > 70:
        raise DomainError(
            "Le nom du titulaire est trop long (70 caractères au plus).", field="debtor_name"
        )
    if method not in Mandate.SignatureMethod.values:
        raise DomainError("Mode de signature inconnu.", field="method")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not _sepa_contracts(customer.pk).exists():
        raise DomainError(
            "Ce client paie par chèque : il n'a pas de compte prélevé à changer.", field="iban"
        )
    signed_on = timezone.localdate(signed_at)
    made_on = max(signed_on, on or signed_on)
    mandates = list(Mandate.objects.filter(customer=customer).order_by("id"))
    for mandate in mandates:
        if (
            mandate.status == Mandate.Status.PENDING
            and mandate.iban == checked.iban
            and mandate.debtor_name == holder
            and mandate.signature_date == signed_on
        ):
            return mandate  # the same form submitted twice
    live = [m for m in mandates if m.status in (Mandate.Status.PENDING, Mandate.Status.ACTIVE)]
    latest = max(live, key=lambda m: (m.applies_from or date.min, m.pk), default=None)
    if latest is not None and latest.iban == checked.iban and latest.debtor_name == holder:
        raise DomainError(
            "Ce compte est déjà celui qui est prélevé : il n'y a rien à changer.", field="iban"
        )
    replaces = latest or (mandates[-1] if mandates else None)
    policy = Policy.get()
    mandate = Mandate.objects.create(
        reference=f"RUM-{customer.reference}-{sequence_next('mandate'):06d}",
        customer=customer,
        debtor_name=holder,
        iban=checked.iban,
        bic=checked.bic,
        signature_date=signed_on,
        signed_at=signed_at,
        signature_method=method,
        signature_ip=ip if method == Mandate.SignatureMethod.ONLINE else None,
        status=Mandate.Status.PENDING,
        applies_from=mandate_applies_from(signed_on=made_on, policy=policy),
        replaces=replaces,
    )
    first_debit = mandate_first_debit(mandate=mandate, policy=policy)
    assert first_debit is not None
    event_record(
        actor=actor,
        verb="mandate.signed",
        at=signed_at,
        subject_type="mandate",
        subject_id=mandate.pk,
        customer_id=customer.pk,
        summary=(
            f"Changement de coordonnées bancaires : mandat {mandate.reference} "
            f"({mandate.iban_masked}, {mandate.get_signature_method_display()}), "
            f"utilisé à partir du prélèvement du {_day(first_debit)}"
        ),
        data={
            "reference": mandate.reference,
            "iban": mandate.iban_masked,
            "bic": mandate.bic,
            "method": method,
            "signed_on": signed_on.isoformat(),
            "recorded_on": made_on.isoformat(),
            "applies_from": mandate.applies_from.isoformat() if mandate.applies_from else None,
            "first_debit": first_debit.isoformat(),
            "replaces": replaces.reference if replaces else None,
        },
    )
    return mandate


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _activate(*, customer_id: int, month: date, actor: Actor, at: datetime) -> list[str]:
    """Put in force the newest pending mandate of the customer due by ``month`` (P4)."""
    mandates = list(
        Mandate.objects.select_for_update().filter(customer_id=customer_id).order_by("id")
    )
    due = [
        m
        for m in mandates
        if m.status == Mandate.Status.PENDING and m.applies_from and m.applies_from <= month
    ]
    if not due:
        return []
    chosen = max(due, key=lambda m: (m.applies_from or date.min, m.pk))
    assert chosen.applies_from is not None
    ended_on = chosen.applies_from - timedelta(days=1)
    changed = [chosen.reference]
    for mandate in mandates:
        if mandate is chosen or (mandate not in due and mandate.status != Mandate.Status.ACTIVE):
            continue
        mandate.status = Mandate.Status.AMENDED
        mandate.ended_on = ended_on
        mandate.save(update_fields=["status", "ended_on"])
        changed.append(mandate.reference)
        event_record(
            actor=actor,
            verb="mandate.amended",
            at=at,
            subject_type="mandate",
            subject_id=mandate.pk,
            customer_id=customer_id,
            summary=f"Mandat {mandate.reference} ({mandate.iban_masked}) remplacé par {chosen.reference}",
            data={"reference": mandate.reference, "replaced_by": chosen.reference},
        )
    chosen.status = Mandate.Status.ACTIVE
    chosen.save(update_fields=["status"])
    event_record(
        actor=actor,
        verb="mandate.activated",
        at=at,
        subject_type="mandate",
        subject_id=chosen.pk,
        customer_id=customer_id,
        summary=(
            f"Mandat {chosen.reference} ({chosen.iban_masked}) en vigueur pour les prélèvements "
            f"à partir de {chosen.applies_from:%m/%Y}"
        ),
        data={"reference": chosen.reference, "iban": chosen.iban_masked},
    )
    contracts = _sepa_contracts(customer_id).exclude(mandate=chosen)
    moved = list(contracts.values_list("pk", "reference"))
    if moved:
        # Only that column: the contract's other fields belong to the contracts domain.
        _sepa_contracts(customer_id).filter(pk__in=[pk for pk, _ref in moved]).update(
            mandate=chosen
        )
        for pk, reference in moved:
            event_record(
                actor=actor,
                verb="contract.mandate_changed",
                at=at,
                subject_type="contract",
                subject_id=pk,
                customer_id=customer_id,
                summary=f"Contrat {reference} : prélevé avec le mandat {chosen.reference}",
                data={"contract": reference, "mandate": chosen.reference},
            )
    return changed


def _lapse(*, on: date, policy: Policy, actor: Actor, at: datetime) -> list[str]:
    """P7: an active mandate whose last use (last debit, else signature) is more than
    ``mandate_lapse_months`` before ``on`` lapses."""
    threshold = _months_before(on, policy.mandate_lapse_months)
    candidates = list(
        Mandate.objects.filter(status=Mandate.Status.ACTIVE)
        .annotate(last_use=Coalesce(F("last_debit_date"), F("signature_date")))
        .filter(last_use__lt=threshold)
        .order_by("id")
    )
    if not candidates:
        return []
    # A debit more recent than the threshold is a use even if ``last_debit_date`` lags behind.
    used = set(
        Debit.objects.filter(
            mandate_id__in=[m.pk for m in candidates], batch__debit_date__gte=threshold
        ).values_list("mandate_id", flat=True)
    )
    changed = []
    for mandate in candidates:
        if mandate.pk in used:
            continue
        locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if locked.status != Mandate.Status.ACTIVE:
            continue
        locked.status = Mandate.Status.LAPSED
        locked.ended_on = on
        locked.save(update_fields=["status", "ended_on"])
        last_use: date = mandate.last_use
        changed.append(locked.reference)
        event_record(
            actor=actor,
            verb="mandate.lapsed",
            at=at,
            subject_type="mandate",
            subject_id=locked.pk,
            customer_id=locked.customer_id,
            summary=(
                f"Mandat {locked.reference} ({locked.iban_masked}) caduc : aucun prélèvement "
                f"depuis le {_day(last_use)} ({policy.mandate_lapse_months} mois, P7). "
                "Un nouveau mandat doit être signé."
            ),
            data={
                "reference": locked.reference,
                "last_use": last_use.isoformat(),
                "months": policy.mandate_lapse_months,
            },
        )
    return changed


def mandates_daily_run(*, on: date, actor: Actor) -> list[str]:
    """The mandates' daily job: a replacement mandate comes into force for the debit month it
    applies from (P4: pending with ``applies_from`` ≤ the first day of ``on``'s month → active;
    the mandate it replaces → amended with ``ended_on``; the customer's SEPA contracts point to
    it), and a mandate unused for ``mandate_lapse_months`` lapses (P7). Idempotent. Returns
    what changed, one reference each."""
    policy = Policy.get()
    at = datetime.combine(on, time(0, 30), tzinfo=PARIS)  # when the daily jobs run
    month = on.replace(day=1)
    customer_ids = list(
        Mandate.objects.filter(status=Mandate.Status.PENDING, applies_from__lte=month)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )
    changed: list[str] = []
    for customer_id in customer_ids:
        with transaction.atomic():
            changed += _activate(customer_id=customer_id, month=month, actor=actor, at=at)
    with transaction.atomic():
        changed += _lapse(on=on, policy=policy, actor=actor, at=at)
    return changed
