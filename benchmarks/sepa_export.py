"""Benchmark of the direct-debit file (P2): one pain.008 file of N debits created end to end
(select the invoices, choose the mandates, insert the debits, sum, stream and store the file),
its peak memory, and side by side in the same run the limit: the same XML written by
``lxml.etree.xmlfile`` alone, from memory, with no database. Also the XSD validation.

    .venv/bin/python benchmarks/sepa_export.py                     # PostgreSQL, N = 100,000
    .venv/bin/python benchmarks/sepa_export.py --n 1000000
    .venv/bin/python benchmarks/sepa_export.py --db sqlite --n 20000

Goals: 1,000,000 debits under 150 MB peak and within 2x of the raw lxml writer.

The data (N customers, each with an active mandate and one SEPA invoice due on the debit
date) is written straight into a throw-away database by COPY. Each phase runs in its own
process so that its peak memory (``ru_maxrss``) is its own. Two limits are printed: an
idiomatic ``xmlfile`` writer that builds each transaction's elements (what the issue measured
as "lxml streaming"), and the project's writer fed from memory (the XML alone, no database)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PARIS = ZoneInfo("Europe/Paris")
DEBIT_DATE = date(2027, 3, 5)
AT = datetime(2027, 3, 3, 10, tzinfo=PARIS)
CREDITOR_IBAN = "FR7610278060610001020480101"
CREDITOR_BIC = "CMCIFR2A"
DEBTOR_IBAN = "FR7630006000011234567890189"
GOAL_MB = 150
GOAL_RATIO = 2.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raccord.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.RACCORD_SEPA_CREDITOR_IBAN = CREDITOR_IBAN
    settings.RACCORD_SEPA_CREDITOR_BIC = CREDITOR_BIC


def generate(n: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from raccord.billing.documents_storage import DOCUMENT_COLUMNS
    from raccord.billing.models import Document, seller_copy_for
    from raccord.core.bulk import rows_insert
    from raccord.core.models import OperatorProfile
    from raccord.customers.models import Customer
    from raccord.payments.models import Mandate

    call_command("migrate", verbosity=0)
    profile = OperatorProfile.get()
    profile.legal_name = "Vallées Connectées SAS"
    profile.sepa_creditor_id = "FR12ZZZ123456"
    profile.save()
    created = datetime(2025, 1, 1, tzinfo=PARIS)
    seller = seller_copy_for({"legal_name": profile.legal_name})
    chunk = 50_000
    for base in range(0, n, chunk):
        size = min(chunk, n - base)
        with transaction.atomic():
            ids = rows_insert(
                Customer,
                (
                    "reference",
                    "user_id",
                    "civility",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "birth_date",
                    "postal_address",
                    "postal_code",
                    "city",
                    "created_at",
                    "pending_email",
                ),
                [
                    (
                        f"C{k:09d}",
                        None,
                        "",
                        "Camille",
                        f"Martin{k}",
                        f"c{k}@example.org",
                        "0612345678",
                        None,
                        "",
                        "",
                        "",
                        created,
                        "",
                    )
                    for k in range(base, base + size)
                ],
                need_ids=True,
            )
            rows_insert(
                Mandate,
                (
                    "reference",
                    "customer_id",
                    "debtor_name",
                    "iban",
                    "bic",
                    "signature_date",
                    "signed_at",
                    "signature_method",
                    "signature_ip",
                    "status",
                    "last_debit_date",
                    "applies_from",
                    "replaces_id",
                    "ended_on",
                ),
                [
                    (
                        f"RUM-C{base + i:09d}-{base + i:06d}",
                        cid,
                        "Hélène Dupré" if i % 7 == 0 else f"Camille Martin{base + i}",
                        DEBTOR_IBAN,
                        "AGRIFRPP",
                        date(2025, 1, 1),
                        created,
                        "online",
                        None,
                        "active",
                        None,
                        None,
                        None,
                        None,
                    )
                    for i, cid in enumerate(ids)
                ],
            )
            rows_insert(
                Document,
                DOCUMENT_COLUMNS[1:],  # the run's own columns, the id left to the database
                [
                    (
                        "invoice",
                        f"F2027-{base + i:07d}",
                        date(2027, 3, 2),
                        cid,
                        None,
                        None,
                        Decimal("34.90") if i % 5 else Decimal("83.90"),
                        [],
                        seller,
                        {},
                        {"method": "sepa"},
                        "sepa",
                        DEBIT_DATE,
                        [],
                        "",
                        "",
                    )
                    for i, cid in enumerate(ids)
                ],
            )
        print(f"\r  generated {base + size}/{n} SEPA invoices", end="", flush=True)
    print()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def export_phase(version: str) -> None:
    from raccord.core.events import Actor
    from raccord.payments.debits import debit_file_create

    started = time.perf_counter()
    result = debit_file_create(
        debit_date=DEBIT_DATE, at=AT, actor=Actor.system("bench"), version=version
    )
    seconds = time.perf_counter() - started
    batch = result.batch
    assert batch is not None
    size = batch.file.size
    peak = _peak_mb()
    # The file alone, streamed again from the recorded debits (what a download of a batch
    # written earlier costs): database read + XML, no insert.
    from raccord.payments.sepa.batch_file import pain008_stream
    from raccord.payments.sepa.creditor import creditor_get

    started = time.perf_counter()
    with open(f"{batch.file.path}.again", "wb") as out:
        pain008_stream(out, batch=batch, creditor=creditor_get(), at=AT, version=version)
    stream = time.perf_counter() - started
    print(
        f"RESULT debits={batch.count} seconds={seconds:.2f} peak_mb={peak:.0f} "
        f"stream={stream:.2f} stream_peak_mb={_peak_mb():.0f} bytes={size} path={batch.file.path}"
    )


def _transactions(n: int) -> Iterator[tuple[str, str, str, str, str, str, str, str]]:
    for k in range(n):
        number = f"F2027-{k:07d}"
        yield (
            number,
            "34.90" if k % 5 else "83.90",
            f"RUM-C{k:09d}-{k:06d}",
            "2025-01-01",
            "AGRIFRPP",
            "Hélène Dupré" if k % 7 == 0 else f"Camille Martin{k}",
            DEBTOR_IBAN,
            f"Facture {number}",
        )


def raw_phase(n: int, version: str, out: str) -> None:
    """The limits: the same transactions written by lxml.etree.xmlfile with no database."""
    from lxml import etree

    from raccord.payments.sepa.pain008 import Creditor, PaymentGroup, pain008_write
    from raccord.payments.sepa.schemas import pain008_namespace
    from raccord.payments.sepa.text import sepa_text

    namespace = pain008_namespace(version)
    bic_tag = "BIC" if version == "001.02" else "BICFI"
    started = time.perf_counter()
    # 1. idiomatic: each transaction's elements built, then written
    with open(out, "wb") as f, etree.xmlfile(f, encoding="UTF-8") as xf:
        xf.write_declaration()
        with (
            xf.element(f"{{{namespace}}}Document", nsmap={None: namespace}),
            xf.element("CstmrDrctDbtInitn"),
            xf.element("PmtInf"),
        ):
            sub = etree.SubElement
            for e2e, amount, mandate, signed, bic, name, iban, text in _transactions(n):
                tx = etree.Element("DrctDbtTxInf")
                sub(sub(tx, "PmtId"), "EndToEndId").text = e2e
                sub(tx, "InstdAmt", Ccy="EUR").text = amount
                info = sub(sub(tx, "DrctDbtTx"), "MndtRltdInf")
                sub(info, "MndtId").text = mandate
                sub(info, "DtOfSgntr").text = signed
                sub(sub(sub(tx, "DbtrAgt"), "FinInstnId"), bic_tag).text = bic
                sub(sub(tx, "Dbtr"), "Nm").text = sepa_text(name, 70)
                sub(sub(sub(tx, "DbtrAcct"), "Id"), "IBAN").text = iban
                sub(sub(tx, "RmtInf"), "Ustrd").text = text
                xf.write(tx)
    idiomatic = time.perf_counter() - started
    # 2. the project's writer, fed from memory
    total = sum((Decimal(t[1]) for t in _transactions(n)), start=Decimal(0))
    started = time.perf_counter()
    with open(out, "wb") as f:
        pain008_write(
            f,
            version=version,
            message_id="PRLV-RAW",
            created_at=AT,
            creditor=Creditor(
                "Vallées Connectées SAS", CREDITOR_IBAN, CREDITOR_BIC, "FR12ZZZ123456"
            ),
            groups=[
                (
                    PaymentGroup("PRLV-RAW-RCUR", "RCUR", DEBIT_DATE, n, total),
                    _transactions(n),
                )
            ],
        )
    writer = time.perf_counter() - started
    print(f"RAW idiomatic={idiomatic:.2f} writer={writer:.2f} peak_mb={_peak_mb():.0f}")


def validate_phase(path: str, version: str, tree: bool) -> None:
    from raccord.payments.sepa.schemas import pain008_schema, pain008_validate

    pain008_schema(version)  # the schema's own parse is not the file's
    started = time.perf_counter()
    result = pain008_validate(path, version=version)
    streaming = time.perf_counter() - started
    assert result.valid, result.error
    line = f"VALIDATE streaming={streaming:.2f} streaming_peak_mb={_peak_mb():.0f}"
    if tree:
        from lxml import etree

        started = time.perf_counter()
        document = etree.parse(path, etree.XMLParser(huge_tree=True))
        valid = pain008_schema(version).validate(document)
        assert valid
        line += f" tree={time.perf_counter() - started:.2f} tree_peak_mb={_peak_mb():.0f}"
    print(line)


def _run(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, env=env, capture_output=True, text=True
    )
    return out.stdout


def _fields(out: str, prefix: str) -> dict[str, str]:
    line = next(row for row in out.splitlines() if row.startswith(prefix))
    return dict(item.split("=", 1) for item in line.split()[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--version", choices=["001.02", "001.08"], default="001.02")
    parser.add_argument("--phase", choices=["all", "generate", "export", "raw", "validate"])
    parser.add_argument("--db-url")
    parser.add_argument("--path")
    parser.add_argument("--tree", action="store_true")
    args = parser.parse_args()

    if args.phase == "generate":
        _setup_django(args.db_url)
        generate(args.n)
        return
    if args.phase == "export":
        _setup_django(args.db_url)
        export_phase(args.version)
        return
    if args.phase == "raw":
        sys.path.insert(0, str(ROOT))
        raw_phase(args.n, args.version, args.path)
        return
    if args.phase == "validate":
        sys.path.insert(0, str(ROOT))
        validate_phase(args.path, args.version, args.tree)
        return

    tmp = tempfile.mkdtemp(prefix="raccord-bench-sepa-")
    name = f"raccord_bench_sepa_{os.getpid()}"
    if args.db == "sqlite":
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "RACCORD_DATA_DIR": tmp, "DJANGO_SETTINGS_MODULE": "raccord.settings"}
    try:
        print(f"SEPA export benchmark on {args.db}, {args.n} debits, pain.008.{args.version}")
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                "generate",
                "--n",
                str(args.n),
                "--db-url",
                db_url,
            ],
            check=True,
            env=env,
        )
        print(f"  data generated in {time.perf_counter() - started:.0f} s")
        export = _fields(
            _run(["--phase", "export", "--db-url", db_url, "--version", args.version], env),
            "RESULT",
        )
        raw = _fields(
            _run(
                [
                    "--phase",
                    "raw",
                    "--n",
                    str(args.n),
                    "--version",
                    args.version,
                    "--path",
                    f"{tmp}/raw.xml",
                ],
                env,
            ),
            "RAW",
        )
        tree = ["--tree"] if args.n <= 200_000 else []
        check = _fields(
            _run(
                ["--phase", "validate", "--path", export["path"], "--version", args.version, *tree],
                env,
            ),
            "VALIDATE",
        )
        debits, seconds = int(export["debits"]), float(export["seconds"])
        peak = float(export["peak_mb"])
        idiomatic, writer = float(raw["idiomatic"]), float(raw["writer"])
        print(f"  file: {int(export['bytes']) / 1e6:.0f} MB")
        print(
            f"  export end to end: {seconds:.2f} s, {debits / seconds:,.0f} debits/s, "
            f"peak {peak:.0f} MB (goal < {GOAL_MB} MB: {'ok' if peak < GOAL_MB else 'MISSED'})"
        )
        print(
            f"  raw lxml.etree.xmlfile, elements built per transaction: {idiomatic:.2f} s "
            f"-> export / raw = {seconds / idiomatic:.2f}x "
            f"(goal <= {GOAL_RATIO}x: {'ok' if seconds / idiomatic <= GOAL_RATIO else 'MISSED'})"
        )
        stream = float(export["stream"])
        print(
            f"  the file alone streamed from the recorded debits (read + XML, no insert): "
            f"{stream:.2f} s, peak {export['stream_peak_mb']} MB -> stream / raw = "
            f"{stream / idiomatic:.2f}x"
        )
        print(
            f"  the project's writer alone, from memory: {writer:.2f} s "
            f"-> export / writer = {seconds / writer:.2f}x, stream / writer = "
            f"{stream / writer:.2f}x"
        )
        line = (
            f"  XSD validation, streaming: {float(check['streaming']):.2f} s "
            f"(peak {check['streaming_peak_mb']} MB)"
        )
        if "tree" in check:
            line += f"; whole tree: {float(check['tree']):.2f} s (peak {check['tree_peak_mb']} MB)"
        print(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
