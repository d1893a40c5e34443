"""The demo operator: a fictional regional ISP with its catalogue, zones, addresses, agents and
customers at different stages of their life. Everything goes through the real services, and
loading twice changes nothing (every step is keyed by a natural key)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction

from raccord.billing.run import billing_run, run_date_of
from raccord.catalog.models import CGVVersion, EquipmentModel, Offer, Option, Zone, ZoneOffer
from raccord.contracts.models import Contract
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_installation_book,
    contract_kit_ship,
)
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.models import OperatorProfile, Policy
from raccord.eligibility.models import Address, Premises
from raccord.equipment.services import equipment_units_assign

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
DEMO_ADDRESSES = Path(__file__).resolve().parent.parent / "eligibility" / "data" / "demo-ban.csv"
DEMO_PASSWORD = "Bienvenue-2027"  # noqa: S105 - printed on purpose: demo logins only
DEMO_CGV_VERSION = "2025-01"


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    note: str = ""


@dataclass
class DemoReport:
    created: list[str] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)


def _operator() -> None:
    profile = OperatorProfile.get()
    if profile.siren:
        return
    profile.legal_name = "Vallées Connectées SAS"
    profile.trade_name = "Vallées Connectées"
    profile.address = "4 rue du Relais, 67600 Sélestat"
    profile.siren = "912345675"
    profile.vat_number = "FR65912345675"
    profile.sepa_creditor_id = "FR12ZZZ123456"
    profile.sepa_creditor_iban = "FR7610278060610001020480197"
    profile.sepa_creditor_bic = "CMCIFR2A"
    profile.customer_service_phone = "09 70 00 00 00"
    profile.customer_service_hours = "du lundi au vendredi de 9 h à 18 h, le samedi de 9 h à 12 h"
    profile.customer_service_email = "service-client@vallees-connectees.example"
    profile.customer_service_address = (
        "Vallées Connectées – Service client, 4 rue du Relais, 67600 Sélestat"
    )
    profile.consumer_service_address = (
        "Vallées Connectées – Service consommateurs, 4 rue du Relais, 67600 Sélestat"
    )
    profile.billing_address = "Vallées Connectées – Facturation, 4 rue du Relais, 67600 Sélestat"
    profile.mediator_name = "Médiateur des communications électroniques"
    profile.mediator_address = "CS 30342, 94257 Gentilly Cedex"
    profile.mediator_url = "https://www.mediateur-telecom.fr"
    profile.website = "https://vallees-connectees.example"
    profile.save()
    Policy.get()


def _cgv_pdf(version: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"Conditions générales de vente {version}")
    story = [
        Paragraph(
            f"Vallées Connectées – Conditions générales de vente (version {version})",
            styles["Title"],
        ),
        Spacer(1, 12),
    ]
    sections = [
        (
            "Objet",
            "Les présentes conditions régissent la fourniture d'un accès à internet très haut débit.",
        ),
        (
            "Mise en service",
            "Le service est mis en service à la première connexion du client au réseau, ou au plus tard "
            "trente jours après la réception du matériel.",
        ),
        (
            "Rétractation",
            "Le client dispose de quatorze jours après la souscription pour se rétracter. L'annulation est "
            "gratuite tant que la ligne n'est pas activée.",
        ),
        (
            "Facturation et paiement",
            "L'abonnement est facturé mensuellement et d'avance. La facture vaut pré-notification du "
            "prélèvement, effectué deux jours au moins après son émission.",
        ),
        (
            "Document de démonstration",
            "Ce document est fictif et ne sert qu'à la démonstration de Raccord.",
        ),
    ]
    for title, text in sections:
        story += [Paragraph(title, styles["Heading2"]), Paragraph(text, styles["BodyText"])]
    doc.build(story)
    return buffer.getvalue()


def _catalogue() -> None:
    if Offer.objects.filter(code="THD30").exists():
        return
    antenna = EquipmentModel.objects.create(
        code="ANT",
        label="Antenne radio THD",
        price=Decimal("0.00"),
        non_return_fee=Decimal("150.00"),
        vat_rate=Decimal("0.20"),
    )
    box = EquipmentModel.objects.create(
        code="BOX",
        label="Box internet Wi-Fi 6",
        non_return_fee=Decimal("90.00"),
        vat_rate=Decimal("0.20"),
    )
    ont = EquipmentModel.objects.create(
        code="ONT",
        label="Boîtier fibre (ONT)",
        non_return_fee=Decimal("60.00"),
        vat_rate=Decimal("0.20"),
    )
    thd30 = Offer.objects.create(
        code="THD30",
        label="THD Radio 30",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("29.90"),
        setup_fee=Decimal("49.00"),
        commitment_months=12,
        position=1,
        description="L'essentiel du très haut débit par voie radio, pour surfer et regarder des vidéos.",
    )
    thd100 = Offer.objects.create(
        code="THD100",
        label="THD Radio 100",
        technology="radio",
        download_mbps=100,
        upload_mbps=20,
        monthly_price=Decimal("39.90"),
        setup_fee=Decimal("49.00"),
        commitment_months=24,
        subsidised_equipment=True,
        termination_fee=Decimal("0.00"),
        position=2,
        description="Le très haut débit radio pour toute la famille, télétravail compris.",
    )
    liberte = Offer.objects.create(
        code="LIBERTE",
        label="THD Radio Liberté",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("34.90"),
        setup_fee=Decimal("79.00"),
        commitment_months=0,
        position=3,
        description="Sans engagement : vous partez quand vous voulez.",
    )
    fibre = Offer.objects.create(
        code="FIBRE500",
        label="Fibre 500",
        technology="fibre",
        download_mbps=500,
        upload_mbps=200,
        monthly_price=Decimal("36.90"),
        setup_fee=Decimal("59.00"),
        commitment_months=12,
        termination_fee=Decimal("30.00"),
        position=4,
        description="La fibre optique jusqu'à votre logement.",
    )
    for offer in (thd30, thd100, liberte):
        offer.equipment.add(antenna, box)
    fibre.equipment.add(ont, box)
    tel = Option.objects.create(
        code="TEL",
        label="Téléphonie fixe illimitée",
        monthly_price=Decimal("5.00"),
        description="Appels illimités vers les fixes et mobiles de France métropolitaine.",
    )
    ip = Option.objects.create(
        code="IPFIXE", label="Adresse IP fixe", monthly_price=Decimal("3.00")
    )
    secours = Option.objects.create(
        code="SECOURS4G",
        label="Secours 4G",
        monthly_price=Decimal("6.00"),
        description="Une clé 4G prend le relais en cas de coupure.",
    )
    for option in (tel, ip, secours):
        option.offers.add(thd30, thd100, liberte, fibre)
    alsace = Zone.objects.create(
        code="alsace-radio", name="Alsace – réseau radio", departments=["67", "68"]
    )
    for offer in (thd30, thd100, liberte):
        ZoneOffer.objects.create(zone=alsace, offer=offer)
    strasbourg = Zone.objects.create(
        code="strasbourg-fibre", name="Strasbourg – fibre", communes=["67482"]
    )
    ZoneOffer.objects.create(zone=strasbourg, offer=fibre)
    vosges = Zone.objects.create(
        code="saint-die-rip",
        name="Saint-Dié-des-Vosges – réseau d'initiative publique",
        communes=["88413"],
        subsidy_authority="Conseil départemental des Vosges",
    )
    ZoneOffer.objects.create(
        zone=vosges,
        offer=thd30,
        monthly_price=Decimal("24.90"),
        setup_subsidy=Decimal("49.00"),
        equipment_subsidy=Decimal("100.00"),
        download_mbps=50,
        upload_mbps=10,
    )
    ZoneOffer.objects.create(zone=vosges, offer=thd100, setup_subsidy=Decimal("49.00"))


def _cgv() -> None:
    if CGVVersion.objects.filter(version=DEMO_CGV_VERSION).exists():
        return
    cgv = CGVVersion(
        version=DEMO_CGV_VERSION,
        effective_date=date(2025, 1, 1),
        summary="Version de démonstration.",
    )
    cgv.document.save(
        f"cgv-{DEMO_CGV_VERSION}.pdf", ContentFile(_cgv_pdf(DEMO_CGV_VERSION)), save=False
    )
    cgv.save()


def _addresses(*, at: datetime) -> None:
    if Address.objects.exists():
        return
    from raccord.eligibility.ban_import import address_import

    with DEMO_ADDRESSES.open(encoding="utf-8", newline="") as stream:
        job = address_import(stream=stream, file_name=DEMO_ADDRESSES.name, started_at=at)
    logger.info(
        "demo addresses imported: %s created, %s rejected", job.rows_created, job.rows_rejected
    )


def _pick_address(insee: str, index: int) -> Address:
    return Address.objects.filter(code_insee=insee).order_by("ban_id")[index]


def _premises(*, on: date) -> None:
    # Two houses of Colmar already carry the operator's antenna (a previous subscriber's).
    for index in (0, 1):
        address = _pick_address("68066", index)
        Premises.objects.get_or_create(
            address=address, defaults={"equipped_since": on - timedelta(days=900)}
        )


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS)


@dataclass(frozen=True)
class DemoCustomer:
    first_name: str
    last_name: str
    email: str
    insee: str
    index: int
    offer: str
    options: tuple[str, ...]
    stage: str
    days_ago: int
    payment: str = "sepa"
    iban: str = "FR7630006000011234567890189"
    mode: str = "kit"
    channel: str = "online"


DEMO_CUSTOMERS = [
    DemoCustomer(
        "Camille",
        "Martin",
        "camille.martin@demo.raccord.example",
        "67482",
        3,
        "FIBRE500",
        ("TEL",),
        "ordered",
        1,
    ),
    DemoCustomer(
        "Lucas",
        "Bernard",
        "lucas.bernard@demo.raccord.example",
        "67462",
        2,
        "THD30",
        (),
        "kit_shipped",
        6,
    ),
    DemoCustomer(
        "Inès",
        "Petit",
        "ines.petit@demo.raccord.example",
        "68224",
        5,
        "THD100",
        ("TEL",),
        "equipment_received",
        12,
        iban="FR7610107001011234567890129",
    ),
    DemoCustomer(
        "Nathan",
        "Roux",
        "nathan.roux@demo.raccord.example",
        "67348",
        1,
        "THD30",
        (),
        "installation_booked",
        4,
        mode="installer",
        channel="phone",
    ),
    DemoCustomer(
        "Hugo",
        "Lefebvre",
        "hugo.lefebvre@demo.raccord.example",
        "67462",
        7,
        "THD100",
        ("TEL", "IPFIXE"),
        "active",
        140,
    ),
    DemoCustomer(
        "Léa",
        "Moreau",
        "lea.moreau@demo.raccord.example",
        "88413",
        4,
        "THD30",
        ("SECOURS4G",),
        "active",
        75,
        iban="FR7610107001011234567890129",
    ),
    DemoCustomer(
        "Paul",
        "Garnier",
        "paul.garnier@demo.raccord.example",
        "68066",
        0,
        "LIBERTE",
        (),
        "active",
        40,
        payment="cheque",
        mode="equipped",
        channel="paper",
    ),
]


def _customer(spec: DemoCustomer, *, today: date, agent: object | None) -> bool:
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=spec.email).exists():
        return False
    signed = today - timedelta(days=spec.days_ago)
    address = _pick_address(spec.insee, spec.index)
    request = SignupRequest(
        address_id=address.pk,
        offer_code=spec.offer,
        option_codes=list(spec.options),
        civility="",
        first_name=spec.first_name,
        last_name=spec.last_name,
        email=spec.email,
        phone=f"06 12 34 {56 + spec.index:02d} {10 + len(spec.first_name):02d}",
        payment_method=spec.payment,
        iban=spec.iban if spec.payment == "sepa" else "",
        account_holder=f"{spec.first_name} {spec.last_name}",
        installation_mode=spec.mode,
        cgv_accepted=True,
        express_start=True,
        channel=spec.channel,
        signup_ip="192.0.2.44" if spec.channel == "online" else None,
    )
    if spec.channel != "online" and agent is not None:
        actor = Actor.agent(agent)  # type: ignore[arg-type]
    else:
        actor = Actor.customer(None, label=spec.email)
    contract = signup_create(request=request, actor=actor, at=_at(signed))
    system = Actor.system()
    if spec.stage in {"kit_shipped", "equipment_received", "active"} and spec.mode == "kit":
        contract = contract_kit_ship(contract=contract, on=signed + timedelta(days=2), actor=system)
    if spec.stage == "installation_booked" or (spec.mode == "installer" and spec.stage == "active"):
        contract = contract_installation_book(
            contract=contract,
            on=signed + timedelta(days=1),
            appointment=today + timedelta(days=5),
            actor=system,
        )
    if spec.stage in {"equipment_received", "active"} and spec.mode != "equipped":
        equipment_units_assign(
            contract=contract,
            models=list(contract.offer.equipment.all()),
            on=signed + timedelta(days=2),
            actor=system,
        )
    if spec.stage in {"equipment_received", "active"}:
        contract = contract_equipment_receive(
            contract=contract, on=signed + timedelta(days=6), actor=system
        )
    if spec.stage == "active":
        contract_activate(
            contract=contract, on=signed + timedelta(days=9), source="radius", actor=system
        )
    user = user_model.objects.get(email__iexact=spec.email)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return True


def _agents() -> list[DemoLogin]:
    from raccord.backoffice.services import agent_create

    logins = []
    for role, email, first, last in (
        ("agent", "agent@demo.raccord.example", "Alice", "Conseil"),
        ("billing", "facturation@demo.raccord.example", "Bruno", "Facture"),
        ("admin", "admin@demo.raccord.example", "Chloé", "Admin"),
    ):
        if not get_user_model().objects.filter(email__iexact=email).exists():
            agent_create(
                email=email, role=role, password=DEMO_PASSWORD, first_name=first, last_name=last
            )
        logins.append(DemoLogin(role=role, email=email, password=DEMO_PASSWORD))
    return logins


def _billing(*, today: date) -> None:
    """Run every monthly run due since the first activation, so that the active demo customers
    have real invoices (with their PDFs) in Mon Compte. Runs already done are skipped (B8)."""
    first = (
        Contract.objects.filter(activation_date__isnull=False).order_by("activation_date").first()
    )
    if first is None or first.activation_date is None:
        return
    policy = Policy.get()
    month = (first.activation_date.replace(day=1) + timedelta(days=32)).replace(day=1)
    while run_date_of(month, policy) <= today:
        billing_run(month=month, at=_at(run_date_of(month, policy), 6))
        _collect(month=month, today=today)
        month = (month + timedelta(days=32)).replace(day=1)


def _collect(*, month: date, today: date) -> None:
    """The month's money, as an operator would have it by ``today``: each debit file made on
    the run day and sent, settled once its date has passed (P1-P2); cheque payers paid before
    the due day (P5). Idempotent: files, settlements and cheques are found again, not redone."""
    from raccord.billing.models import Document
    from raccord.payments.debits import (
        debit_batch_settle,
        debit_batch_submit,
        debit_files_for_month,
    )
    from raccord.payments.ledger import cheque_key, payment_record
    from raccord.payments.models import Payment

    actor = Actor.system("Démonstration")
    run_day = run_date_of(month, Policy.get())
    for result in debit_files_for_month(month=month, at=_at(run_day, 7), actor=actor, force=True):
        for batch in [*result.earlier, *([result.batch] if result.batch else [])]:
            debit_batch_submit(batch=batch, on=run_day, actor=actor)
            if batch.debit_date <= today:
                debit_batch_settle(batch=batch, on=batch.debit_date, actor=actor)
    cheques = Document.objects.filter(
        kind=Document.Kind.INVOICE,
        payment_method="cheque",
        issue_date=run_day,
        total__gt=0,
    ).select_related("customer")
    for invoice in cheques:
        received = invoice.issue_date + timedelta(days=5)
        if received > today:
            continue
        payment_record(
            customer=invoice.customer,
            method=Payment.Method.CHEQUE,
            amount=invoice.total,
            received_on=received,
            actor=actor,
            reference=f"Chèque pour la facture {invoice.number}",
            key=cheque_key(bank="Banque de démonstration", number=invoice.number),
            document_ids=[invoice.pk],
            at=_at(received, 9),
        )


def demo_load(*, today: date) -> DemoReport:
    """Load (or complete) the demo operator as of ``today``. Idempotent."""
    report = DemoReport()
    with transaction.atomic():
        _operator()
        _catalogue()
        _cgv()
        _addresses(at=_at(today, 8))
        _premises(on=today)
        report.logins += _agents()
    agent = get_user_model().objects.filter(email__iexact="agent@demo.raccord.example").first()
    for spec in DEMO_CUSTOMERS:
        if _customer(spec, today=today, agent=agent):
            report.created.append(spec.email)
        report.logins.append(
            DemoLogin(
                role="client",
                email=spec.email,
                password=DEMO_PASSWORD,
                note=STAGE_NOTES[spec.stage],
            )
        )
    _billing(today=today)
    # The network: a NAS client for radclient on this machine, sessions, an outage, an incident.
    from raccord.network.demo import network_demo_load

    network_demo_load(today=today)
    return report


STAGE_NOTES = {
    "ordered": "commande passée hier, kit à expédier",
    "kit_shipped": "kit expédié",
    "equipment_received": "matériel reçu, en attente de la première connexion",
    "installation_booked": "visite d'installateur planifiée",
    "active": "ligne active",
}
