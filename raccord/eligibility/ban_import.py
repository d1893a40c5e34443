"""Import of the national address base (BAN) CSV: streaming, batched, re-runnable.

Part of the eligibility services (re-exported by ``services.py``); kept in its own module because
the bulk-write paths are long. Each batch is classified against what the database already holds
(one query by ``ban_id``), so the job can report created / updated rows exactly, a re-run of the
same file writes nothing, and the new rows go in with the fastest statement the database has:
``COPY`` on PostgreSQL, ``executemany`` of plain ``INSERT`` elsewhere.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TextIO

from django.db import connection, transaction

from raccord.core.errors import DomainError
from raccord.eligibility.ban import BAN_COLUMNS
from raccord.eligibility.models import Address, AddressImport, Street, StreetToken
from raccord.eligibility.search_keys import street_identity, street_keys

_COLUMN_COUNT = len(BAN_COLUMNS)
BATCH_SIZE = 5000
COMMIT_EVERY_ROWS = 50_000
# The job keeps the first bad rows only: a wrong file can have millions, the count says how many.
ERRORS_KEPT = 1000
# A bulk load changes the tables' statistics; past this many written rows they are refreshed at
# once rather than left to autovacuum, or PostgreSQL may plan the search on empty-table figures.
ANALYZE_AFTER_ROWS = 10_000
SQLITE_IMPORT_CACHE_KIB = -262_144  # negative: KiB, i.e. 256 MB

# An INSEE commune code is 5 characters: digits, or 2A/2B + 3 digits for Corsica. It is not the
# postal code, which is always 5 digits and may differ (Strasbourg: INSEE 67482, postal 67000).
_INSEE = re.compile(r"(?:\d{5}|2[AB]\d{3})\Z")
_POSTAL = re.compile(r"\d{5}\Z")
_NUMERO = re.compile(r"\d{1,5}\Z")

# Address columns written by the import, in this order in every row tuple.
_ADDRESS_COLUMNS = (
    "ban_id",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
    "street_id",
)
_STREET_COLUMNS = (
    "id",
    "code_insee",
    "code_postal",
    "nom_commune",
    "nom_voie",
    "street_key",
    "commune_key",
    "search_text",
)
AddressRow = tuple[str, int | None, str, str, str, str, str, float | None, float | None, int]


def _header_check(header: list[str] | None) -> None:
    if header is None:
        raise DomainError("Le fichier est vide : l'en-tête BAN est attendu en première ligne.")
    names = [name.strip().lstrip("\ufeff") for name in header]
    if tuple(names) == BAN_COLUMNS:
        return
    missing = [name for name in BAN_COLUMNS if name not in names]
    unexpected = [name for name in names if name not in BAN_COLUMNS]
    details = []
    if missing:
        details.append("colonnes manquantes : " + ", ".join(missing))
    if unexpected:
        details.append("colonnes inconnues : " + ", ".join(unexpected[:5]))
    if not details:
        details.append("colonnes dans le mauvais ordre")
    raise DomainError(
        "En-tête BAN invalide ("
        + " ; ".join(details)
        + "). Première ligne attendue : "
        + ";".join(BAN_COLUMNS)
    )


def _coordinate(value: str, *, name: str, bound: float) -> float | str | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return f"{name} « {value[:30]} » invalide"
    if not math.isfinite(number) or not -bound <= number <= bound:
        return f"{name} « {value[:30]} » hors limites"
    return number


class _StreetIds:
    """Street ids by street fields, remembered for the consecutive rows of a sorted file."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, str, str], int] = {}

    def get(self, key: tuple[str, str, str, str]) -> int:
        street_id = self._ids.get(key)
        if street_id is None:
            if len(self._ids) > 50_000:
                self._ids.clear()
            street_id = street_identity(
                code_insee=key[0], code_postal=key[1], nom_commune=key[2], nom_voie=key[3]
            )
            self._ids[key] = street_id
        return street_id


def _row_parse(fields: list[str], street_ids: _StreetIds) -> AddressRow | str:
    """The address tuple of one CSV row, or the French reason why it is refused."""
    if len(fields) != _COLUMN_COUNT:
        return f"{len(fields)} colonnes au lieu de {_COLUMN_COUNT}"
    ban_id = fields[0].strip()
    numero_text = fields[2].strip()
    rep = fields[3].strip().lower()
    nom_voie = fields[4].strip()
    code_postal = fields[5].strip()
    code_insee = fields[6].strip().upper()
    nom_commune = fields[7].strip()
    if not ban_id:
        return "identifiant BAN (colonne id) manquant"
    if len(ban_id) > 64:
        return "identifiant BAN trop long (64 caractères au plus)"
    if "\ufffd" in "".join(fields):
        return "caractères illisibles : le fichier doit être encodé en UTF-8"
    if not nom_voie:
        return "nom de voie manquant"
    if len(nom_voie) > 200:
        return "nom de voie trop long (200 caractères au plus)"
    if not nom_commune:
        return "nom de commune manquant"
    if len(nom_commune) > 200:
        return "nom de commune trop long (200 caractères au plus)"
    if not _POSTAL.match(code_postal):
        return f"code postal « {code_postal[:20]} » invalide : 5 chiffres attendus"
    if not _INSEE.match(code_insee):
        return (
            f"code INSEE « {code_insee[:20]} » invalide : 5 caractères attendus "
            "(chiffres, ou 2A/2B suivis de 3 chiffres pour la Corse)"
        )
    if numero_text and not _NUMERO.match(numero_text):
        return f"numéro « {numero_text[:20]} » invalide : un nombre entier est attendu"
    if len(rep) > 10:
        return f"indice de répétition « {rep[:20]} » trop long"
    lon = _coordinate(fields[12].strip(), name="longitude", bound=180.0)
    if isinstance(lon, str):
        return lon
    lat = _coordinate(fields[13].strip(), name="latitude", bound=90.0)
    if isinstance(lat, str):
        return lat
    street_id = street_ids.get((code_insee, code_postal, nom_commune, nom_voie))
    numero = int(numero_text) if numero_text else None
    return (
        ban_id,
        numero,
        rep,
        nom_voie,
        code_postal,
        code_insee,
        nom_commune,
        lon,
        lat,
        street_id,
    )


class _Writer:
    """Bulk statements for one database connection, with the PostgreSQL COPY fast path."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        self.is_postgresql = connection.vendor == "postgresql"
        self.address_table = quote(Address._meta.db_table)
        self.street_table = quote(Street._meta.db_table)
        self.token_table = quote(StreetToken._meta.db_table)
        self.address_columns = ", ".join(quote(c) for c in _ADDRESS_COLUMNS)
        self.street_columns = ", ".join(quote(c) for c in _STREET_COLUMNS)
        self.token_columns = f"{quote('token')}, {quote('street_id')}"
        self.known_streets: set[int] = set()

    def _insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.is_postgresql:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(rows[0]))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608

    def _in(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``IN (...)`` for ``values``: one array parameter on PostgreSQL (thousands of
        placeholders cost more to send and parse than the lookup itself)."""
        if self.is_postgresql:
            return "= ANY(%s)", [list(values)]
        return f"IN ({', '.join(['%s'] * len(values))})", list(values)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Connection settings for the length of one import."""
        if self.is_postgresql:
            yield
            return
        # SQLite's default page cache (2 MB) is far smaller than the indexes of a national base:
        # random inserts into them would go to disk; 256 MB keeps them in memory meanwhile.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            previous = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")

    def batch_begin(self) -> None:
        if self.is_postgresql:
            # Losing the last batches to a server crash is harmless (the import is re-runnable);
            # not waiting for the WAL flush at each batch commit is not.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")

    def existing_addresses(self, ban_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        condition, params = self._in(ban_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {self.address_columns} FROM {self.address_table} "  # noqa: S608
                f"WHERE ban_id {condition}",
                params,
            )
            return {row[0]: tuple(row) for row in cursor.fetchall()}

    def streets_ensure(self, rows: Iterable[AddressRow]) -> None:
        """Create the streets (and their tokens) of these rows that do not exist yet."""
        wanted: dict[int, AddressRow] = {}
        for row in rows:
            if row[9] not in self.known_streets:
                wanted.setdefault(row[9], row)
        if not wanted:
            return
        condition, params = self._in(list(wanted))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {self.street_table} WHERE id {condition}",  # noqa: S608
                params,
            )
            present = {row[0] for row in cursor.fetchall()}
        streets: list[tuple[Any, ...]] = []
        tokens: list[tuple[str, int]] = []
        for street_id, row in wanted.items():
            if street_id in present:
                continue
            keys = street_keys(
                code_insee=row[5], code_postal=row[4], nom_commune=row[6], nom_voie=row[3]
            )
            streets.append(
                (
                    street_id,
                    row[5],
                    row[4],
                    row[6],
                    row[3],
                    keys.street_key,
                    keys.commune_key,
                    keys.search_text,
                )
            )
            tokens.extend((token, street_id) for token in keys.tokens)
        self._insert(self.street_table, self.street_columns, streets)
        self._insert(self.token_table, self.token_columns, tokens)
        if len(self.known_streets) > 200_000:
            # Bounded memory on a national file; forgetting only costs one lookup per street.
            self.known_streets.clear()
        self.known_streets.update(wanted)

    def addresses_insert(self, rows: Sequence[AddressRow]) -> None:
        self._insert(self.address_table, self.address_columns, rows)

    def addresses_update(self, rows: Sequence[AddressRow]) -> None:
        if not rows:
            return
        assignments = ", ".join(
            f"{connection.ops.quote_name(c)} = %s" for c in _ADDRESS_COLUMNS[1:]
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {self.address_table} SET {assignments} WHERE ban_id = %s",  # noqa: S608
                [(*row[1:], row[0]) for row in rows],
            )

    def statistics_refresh(self) -> None:
        if not self.is_postgresql:
            return
        # VACUUM also marks the freshly written pages all-visible, which lets the search read the
        # token index alone (index-only scans); it cannot run inside a transaction (tests).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in (self.address_table, self.street_table, self.token_table):
                cursor.execute(f"{command} {table}")

    def orphan_streets_delete(self, street_ids: set[int]) -> None:
        """Remove the streets that no address points to any more (after addresses moved)."""
        ids = sorted(street_ids)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            condition, params = self._in(chunk)
            orphans = (
                f"SELECT s.id FROM {self.street_table} s WHERE s.id {condition} AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {self.address_table} a WHERE a.street_id = s.id)"
            )
            with connection.cursor() as cursor:
                cursor.execute(orphans, params)
                orphan_ids = [row[0] for row in cursor.fetchall()]
                if orphan_ids:
                    StreetToken.objects.filter(street_id__in=orphan_ids).delete()
                    Street.objects.filter(id__in=orphan_ids).delete()


def address_import(
    *,
    stream: TextIO,
    file_name: str,
    started_at: datetime,
    batch_size: int = BATCH_SIZE,
) -> AddressImport:
    """Import a BAN CSV (``;``-separated, UTF-8, with its header) read from ``stream``.

    Upserts by ``ban_id``: new rows are created, changed rows updated, identical rows left alone,
    so re-running a file reports 0 created and writes nothing. Bad rows are recorded with their
    line number (the header is line 1) while the good rows go in. Rows are written by batches
    and committed every ``COMMIT_EVERY_ROWS``: an interrupted import keeps what it wrote and the
    next run completes it. The job's ``finished_at`` is ``started_at`` plus the measured
    duration (no wall clock read here).

    Raises ``DomainError`` before writing anything when the header is missing or wrong."""
    clock_start = time.perf_counter()
    reader = csv.reader(stream, delimiter=";")
    _header_check(next(reader, None))
    job = AddressImport.objects.create(file_name=file_name[:500], started_at=started_at)
    writer = _Writer()
    street_ids = _StreetIds()
    errors: list[dict[str, Any]] = []
    moved_from: set[int] = set()

    def reject(line: int, message: str) -> None:
        job.rows_rejected += 1
        if len(errors) < ERRORS_KEPT:
            errors.append({"line": line, "message": message})

    def batches() -> Iterator[dict[str, AddressRow]]:
        """The valid rows by batches of distinct ids; bad rows are rejected on the way."""
        batch: dict[str, AddressRow] = {}
        batch_lines: dict[str, int] = {}
        for fields in reader:
            if not fields or fields == [""]:
                continue  # blank line
            line = reader.line_num
            job.rows_read += 1
            parsed = _row_parse(fields, street_ids)
            if isinstance(parsed, str):
                reject(line, parsed)
                continue
            ban_id = parsed[0]
            if ban_id in batch:
                reject(
                    line, f"identifiant BAN {ban_id} en double (déjà ligne {batch_lines[ban_id]})"
                )
                continue
            batch[ban_id] = parsed
            batch_lines[ban_id] = line
            if len(batch) >= batch_size:
                yield batch
                batch, batch_lines = {}, {}
        if batch:
            yield batch

    def write(batch: dict[str, AddressRow]) -> None:
        existing = writer.existing_addresses(list(batch))
        new_rows: list[AddressRow] = []
        changed_rows: list[AddressRow] = []
        for ban_id, row in batch.items():
            current = existing.get(ban_id)
            if current is None:
                new_rows.append(row)
            elif current != row:
                changed_rows.append(row)
                if current[9] is not None and current[9] != row[9]:
                    moved_from.add(current[9])
        writer.streets_ensure([*new_rows, *changed_rows])
        writer.addresses_insert(new_rows)
        writer.addresses_update(changed_rows)
        job.rows_created += len(new_rows)
        job.rows_updated += len(changed_rows)

    pending = batches()
    batches_per_commit = max(1, COMMIT_EVERY_ROWS // batch_size)
    with writer.session():
        exhausted = False
        while not exhausted:
            # Committing every few batches rather than every batch: each commit writes out the
            # index pages the batches touched, and consecutive batches touch many of the same.
            with transaction.atomic():
                writer.batch_begin()
                written = 0
                for batch in itertools.islice(pending, batches_per_commit):
                    write(batch)
                    written += 1
                exhausted = written < batches_per_commit
        if moved_from:
            with transaction.atomic():
                writer.orphan_streets_delete(moved_from)
    if job.rows_created + job.rows_updated >= ANALYZE_AFTER_ROWS:
        writer.statistics_refresh()
    job.errors = errors
    job.finished_at = started_at + timedelta(seconds=time.perf_counter() - clock_start)
    job.save()
    return job
