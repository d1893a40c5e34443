"""Benchmark of the monthly run (billing issue): invoices/s end to end (compute + write
documents, PDFs apart), peak memory, and side by side the limit: a raw bulk write (COPY on
PostgreSQL, executemany on SQLite) of the same rows.

    .venv/bin/python benchmarks/billing_run.py --db sqlite --n 100000
    .venv/bin/python benchmarks/billing_run.py --db postgres --n 1000000

Goals: 10,000 invoices/s on PostgreSQL, 3,000/s on SQLite, memory flat in N.
The data is generated in a throw-away database (a temporary SQLite file, or a PostgreSQL
database created and dropped here): N active subscribers, a third with an option, 5 % newly
activated (first invoice with set-up fee and prorata), 3 % terminated mid-month (credits),
2 % with an offer change, 2 % with a pending gesture; SEPA mandates for 9 in 10, 1 % with a
replacement mandate applying from a later month (P4)."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
MONTH = date(2027, 3, 1)
GOALS = {"postgres": 10_000, "sqlite": 3_000}


def _setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raccord.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def generate(n: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from raccord.catalog.models import CGVVersion, Offer, Option, Zone, ZoneOffer
    from raccord.contracts.models import Contract, ContractOption, Subscription
    from raccord.customers.models import Customer
    from raccord.eligibility.models import Address
    from raccord.payments.models import Mandate

    call_command("migrate", verbosity=0)
    from raccord.core.models import OperatorProfile

    operator = OperatorProfile.get()  # the identity every invoice carries (B9)
    operator.legal_name, operator.address = "Banc d'essai SAS", "1 rue du Test, 67000 Strasbourg"
    operator.siren, operator.vat_number = "912345675", "FR65912345675"
    operator.save()
    paris = ZoneInfo("Europe/Paris")
    offer = Offer.objects.create(
        code="THD30",
        label="THD Radio 30",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("29.90"),
        setup_fee=Decimal("49.00"),
        commitment_months=12,
    )
    fibre = Offer.objects.create(
        code="FIBRE",
        label="Fibre 500",
        technology="fibre",
        download_mbps=500,
        upload_mbps=200,
        monthly_price=Decimal("36.90"),
        commitment_months=12,
    )
    option = Option.objects.create(code="TEL", label="Téléphonie", monthly_price=Decimal("5.00"))
    zone = Zone.objects.create(code="z", name="Z", departments=["67"])
    ZoneOffer.objects.create(zone=zone, offer=offer)
    cgv = CGVVersion.objects.create(version="1", effective_date=date(2020, 1, 1))
    address = Address.objects.create(
        ban_id="67482_0001_00001",
        numero=1,
        nom_voie="Rue Test",
        code_postal="67000",
        code_insee="67482",
        nom_commune="Strasbourg",
    )
    prev_end = MONTH - timedelta(days=1)
    chunk = 5000
    for base in range(0, n, chunk):
        size = min(chunk, n - base)
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                Customer(
                    reference=f"C{base + i:09d}",
                    first_name="Abonné",
                    last_name=f"N{base + i}",
                    email=f"a{base + i}@example.org",
                    phone="0612345678",
                    postal_address="1 rue Test",
                    postal_code="67000",
                    city="Strasbourg",
                    created_at=datetime(2025, 1, 1, tzinfo=paris),
                )
                for i in range(size)
            )
            # SEPA payers (9 in 10) sign a mandate at sign-up; 1 % changed bank details since,
            # the new mandate applying from a later debit (P4: the invoice names the old one)
            mandates = Mandate.objects.bulk_create(
                Mandate(
                    reference=f"RUM-{base + i:09d}",
                    customer=customer,
                    debtor_name="Abonné",
                    iban="FR7630006000011234567890189",
                    bic="AGRIFRPP",
                    signature_date=date(2025, 5, 1),
                    signed_at=datetime(2025, 5, 1, tzinfo=paris),
                    signature_method="online",
                )
                for i, customer in enumerate(customers)
                if (base + i) % 10
            )
            mandate_of = {m.customer_id: m for m in mandates}
            Mandate.objects.bulk_create(
                Mandate(
                    reference=f"RUM-{base + i:09d}-2",
                    customer=customer,
                    debtor_name="Abonné",
                    iban="FR7630004000000001234567845",
                    bic="BNPAFRPP",
                    signature_date=date(2027, 2, 26),
                    signed_at=datetime(2027, 2, 26, tzinfo=paris),
                    signature_method="online",
                    status="pending",
                    applies_from=date(2027, 4, 1),
                    replaces=mandate_of[customer.pk],
                )
                for i, customer in enumerate(customers)
                if (base + i) % 100 == 11
            )
            contracts = []
            for i, customer in enumerate(customers):
                k = base + i
                new = k % 20 == 0  # 5 % activated last month: first invoice
                activation = date(2027, 2, 10 + k % 15) if new else date(2025, 6, 1)
                contracts.append(
                    Contract(
                        reference=f"CT{k:09d}",
                        customer=customer,
                        status="active",
                        offer=offer,
                        offer_label=offer.label,
                        monthly_price=offer.monthly_price,
                        setup_fee=offer.setup_fee,
                        commitment_months=12,
                        vat_rate=Decimal("0.20"),
                        download_mbps=30,
                        upload_mbps=5,
                        signup_date=activation - timedelta(days=10),
                        signed_at=datetime(2025, 5, 1, tzinfo=paris),
                        channel="online",
                        signup_key=uuid.uuid4(),
                        cgv_version=cgv,
                        cgv_accepted_at=datetime(2025, 5, 1, tzinfo=paris),
                        installation_address=address,
                        delivery_name="x",
                        delivery_address="x",
                        delivery_postal_code="67000",
                        delivery_city="x",
                        installation_mode="kit",
                        payment_method="sepa" if k % 10 else "cheque",
                        mandate=mandate_of.get(customer.pk),
                        network_login=f"rc{k:09d}",
                        activation_date=activation,
                        setup_fee_billed=not new,
                    )
                )
            contracts = Contract.objects.bulk_create(contracts)
            activation_of = {c.pk: c.activation_date or MONTH for c in contracts}
            subs, options = [], []
            for i, contract in enumerate(contracts):
                k = base + i
                new = k % 20 == 0
                through = None if new else prev_end
                end = date(2027, 3, 15) if k % 33 == 1 else None  # 3 % terminated mid-month
                if k % 50 == 3:  # 2 % changed offer on 10 February, after February was billed
                    subs.append(
                        Subscription(
                            contract=contract,
                            customer_id=contract.customer_id,
                            kind="offer",
                            product=offer.code,
                            label=offer.label,
                            monthly_price=offer.monthly_price,
                            start_date=activation_of[contract.pk],
                            end_date=date(2027, 2, 9),
                            billed_through=date(2027, 2, 28),
                        )
                    )
                    subs.append(
                        Subscription(
                            contract=contract,
                            customer_id=contract.customer_id,
                            kind="offer",
                            product=fibre.code,
                            label=fibre.label,
                            monthly_price=fibre.monthly_price,
                            start_date=date(2027, 2, 10),
                        )
                    )
                else:
                    subs.append(
                        Subscription(
                            contract=contract,
                            customer_id=contract.customer_id,
                            kind="offer",
                            product=offer.code,
                            label=offer.label,
                            monthly_price=offer.monthly_price,
                            start_date=activation_of[contract.pk],
                            end_date=end,
                            billed_through=through,
                        )
                    )
                if k % 3 == 0:
                    options.append(
                        ContractOption(
                            contract=contract,
                            option=option,
                            label=option.label,
                            monthly_price=option.monthly_price,
                        )
                    )
                    subs.append(
                        Subscription(
                            contract=contract,
                            customer_id=contract.customer_id,
                            kind="option",
                            product=option.code,
                            label=option.label,
                            monthly_price=option.monthly_price,
                            start_date=activation_of[contract.pk],
                            end_date=end,
                            billed_through=through,
                        )
                    )
            ContractOption.objects.bulk_create(options)
            Subscription.objects.bulk_create(subs)
            from raccord.billing.models import PendingItem

            PendingItem.objects.bulk_create(
                PendingItem(
                    contract=c,
                    customer_id=c.customer_id,
                    kind="gesture",
                    label="Geste commercial",
                    amount=Decimal("-2.99"),
                    vat_rate=Decimal("0.20"),
                    created_on=date(2027, 2, 20),
                )
                for i, c in enumerate(contracts)
                if (base + i) % 50 == 7
            )
        print(f"\r  generated {base + size}/{n} subscribers", end="", flush=True)
    print()


def run_phase() -> None:
    from django.utils import timezone

    from raccord.billing.models import Document, DocumentLine
    from raccord.billing.run import billing_run

    started = time.perf_counter()
    result = billing_run(month=MONTH, at=timezone.now(), render_pdfs=False, batch_size=5000)
    elapsed = time.perf_counter() - started
    documents = result.invoices + result.credit_notes
    lines = DocumentLine.objects.count()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert Document.objects.count() == documents
    print(f"RESULT documents={documents} lines={lines} seconds={elapsed:.2f} peak_mb={peak_mb:.0f}")


def pdf_phase(count: int) -> None:
    """What a PDF worker does after the run: render and store the documents' PDFs (one core)."""
    from raccord.billing.models import Document
    from raccord.billing.tasks import documents_render

    ids = list(Document.objects.order_by("pk").values_list("pk", flat=True)[:count])
    started = time.process_time()
    stored = documents_render.apply(args=[ids]).get()
    cpu = time.process_time() - started
    print(f"PDF documents={stored} cpu_seconds={cpu:.2f}")


def copy_phase(vendor: str, documents: int, lines: int) -> float:
    """The limit: the same number of document and line rows written raw into scratch tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_doc (id bigint, number varchar(30), customer_id bigint, total numeric(12,2),"
            " payment text)"
        )
        cursor.execute(
            "CREATE TABLE bench_line (document_id bigint, position int, label varchar(200),"
            " amount numeric(10,2), vat_rate numeric(5,4), data text)"
        )
    doc_rows: list[tuple[int | str, ...]] = [
        (i, f"F2027-{i:07d}", i, "34.90", '{"method": "sepa"}') for i in range(documents)
    ]
    line_rows: list[tuple[int | str, ...]] = [
        (i % max(documents, 1), i, "THD Radio 30", "29.90", "0.2000", '{"days": 31}')
        for i in range(lines)
    ]
    started = time.perf_counter()
    if vendor == "postgresql":
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cur:
            with cur.copy("COPY bench_doc FROM STDIN") as copy:
                for row in doc_rows:
                    copy.write_row(row)
            with cur.copy("COPY bench_line FROM STDIN") as copy:
                for row in line_rows:
                    copy.write_row(row)
        raw.commit()
    else:
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_doc VALUES (%s, %s, %s, %s, %s)", doc_rows)
            cursor.executemany("INSERT INTO bench_line VALUES (%s, %s, %s, %s, %s, %s)", line_rows)
        connection.commit() if not connection.get_autocommit() else None
    return time.perf_counter() - started


def _copy_database(vendor: str, db_url: str, tmp: str) -> str:
    if vendor == "sqlite":
        import shutil

        source = db_url.removeprefix("sqlite:///")
        target = f"{tmp}/bench-parallel.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    import psycopg

    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}_parallel" TEMPLATE "{name}"')
    return f"{db_url}_parallel"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--phase", choices=["all", "run", "copy", "pdf"], default="all")
    parser.add_argument(
        "--pdfs", type=int, default=2000, help="documents rendered for the PDF figure"
    )
    parser.add_argument("--db-url")
    parser.add_argument("--documents", type=int, default=0)
    parser.add_argument("--lines", type=int, default=0)
    args = parser.parse_args()

    if args.phase == "run":
        _setup_django(args.db_url)
        run_phase()
        return
    if args.phase == "pdf":
        _setup_django(args.db_url)
        pdf_phase(args.pdfs)
        return
    if args.phase == "copy":
        _setup_django(args.db_url)
        from django.db import connection

        print(f"COPY seconds={copy_phase(connection.vendor, args.documents, args.lines):.2f}")
        return

    tmp = tempfile.mkdtemp(prefix="raccord-bench-")
    if args.db == "sqlite":
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        name = f"raccord_bench_billing_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "RACCORD_DATA_DIR": tmp}
    try:
        print(f"Billing run benchmark on {args.db}, {args.n} subscribers")
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.argv=['x']; sys.path.insert(0, {str(ROOT)!r});"
                f"from benchmarks.billing_run import _setup_django, generate;"
                f"_setup_django({db_url!r}); generate({args.n})",
            ],
            check=True,
            env=env,
        )
        print(f"  data generated in {time.perf_counter() - started:.0f} s")
        # a copy of the generated data for a run shared by two worker processes
        parallel_url = _copy_database(args.db, db_url, tmp)
        out = subprocess.run(
            [sys.executable, __file__, "--phase", "run", "--db-url", db_url],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        line = next(row for row in out.splitlines() if row.startswith("RESULT"))
        fields = dict(item.split("=") for item in line.split()[1:])
        documents, lines, seconds = (
            int(fields["documents"]),
            int(fields["lines"]),
            float(fields["seconds"]),
        )
        per_s = documents / seconds
        copy_out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                "copy",
                "--db-url",
                db_url,
                "--documents",
                str(documents),
                "--lines",
                str(lines),
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        copy_s = float(copy_out.split("=")[1])
        goal = GOALS[args.db]
        print(
            f"  run: {documents} documents, {lines} lines in {seconds:.2f} s = {per_s:,.0f} invoices/s "
            f"(goal {goal:,}/s: ratio {per_s / goal:.2f}); peak memory {fields['peak_mb']} MB"
        )
        print(
            f"  limit: raw write of the same {documents + lines} rows in {copy_s:.2f} s = "
            f"{documents / copy_s:,.0f} documents/s; the run takes {seconds / copy_s:.1f}× the raw write"
        )
        pdf_out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                "pdf",
                "--db-url",
                db_url,
                "--pdfs",
                str(args.pdfs),
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        pdf_fields = dict(item.split("=") for item in pdf_out.split()[1:])
        pdf_per_s = int(pdf_fields["documents"]) / float(pdf_fields["cpu_seconds"])
        print(
            f"  PDF worker: {pdf_fields['documents']} invoices rendered and stored in "
            f"{pdf_fields['cpu_seconds']} s of CPU = {pdf_per_s:,.0f} documents/s per core "
            f"(goal 150 pages/s: ratio {pdf_per_s / 150:.2f}; these invoices are one page each)"
        )
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "raccord.manage",
                "billing",
                "run",
                "--month",
                MONTH.strftime("%Y-%m"),
                "--workers",
                "2",
                "--no-pdf",
                "--batch-size",
                "5000",
            ],
            check=True,
            cwd=ROOT,
            env={**env, "DATABASE_URL": parallel_url, "LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
        )
        parallel_s = time.perf_counter() - started
        print(
            f"  the same run shared by 2 worker processes (raccord billing run --workers 2): "
            f"{parallel_s:.2f} s = {documents / parallel_s:,.0f} invoices/s "
            f"(goal {goal:,}/s: ratio {documents / parallel_s / goal:.2f})"
        )
    finally:
        if args.db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'DROP DATABASE IF EXISTS "{name}_parallel" WITH (FORCE)')


if __name__ == "__main__":
    main()
