"""Bulk inserts of plain rows: PostgreSQL COPY, executemany on SQLite.

Django's bulk_create adapts every value of every model instance in Python (about 33,000
rows/s measured here on PostgreSQL); the monthly run writes millions of rows, so it builds
plain tuples and streams them: COPY on PostgreSQL, one executemany on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def _adapt(value: Any, *, sqlite: bool) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    if isinstance(value, Decimal):
        return str(value)
    if sqlite and isinstance(value, date):
        return value.isoformat()
    return value


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{name} is not a concrete column")
    return column


def rows_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    need_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (values in the order of ``columns``, the fields' attnames) inside the
    caller's transaction. With ``need_ids`` returns the new primary keys, in row order."""
    if not rows:
        return []
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    db_columns = [_column(model, name) for name in columns]
    table = connection.ops.quote_name(meta.db_table)
    sqlite = connection.vendor != "postgresql"
    ids: list[int] = []
    with connection.cursor() as cursor:
        if need_ids:
            if sqlite:
                # The run's transaction holds SQLite's write lock (BEGIN IMMEDIATE): no one else
                # can take these ids in between.
                column = connection.ops.quote_name(pk.column)
                cursor.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")  # noqa: S608
                first = int(cursor.fetchone()[0]) + 1
                ids = list(range(first, first + len(rows)))
            else:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, pk.column, len(rows)],
                )
                ids = [row[0] for row in cursor.fetchall()]
            db_columns = [pk.column, *db_columns]
        quoted = ", ".join(connection.ops.quote_name(c) for c in db_columns)
        # Only JSON columns need converting for COPY (psycopg dumps the other Python types
        # itself); SQLite also wants decimals and dates as text.
        json_at = {
            i + (1 if need_ids else 0)
            for i, name in enumerate(columns)
            if isinstance(meta.get_field(name), models.JSONField)
        }
        if sqlite:
            placeholders = ", ".join(["%s"] * len(db_columns))
            values = [
                [_adapt(v, sqlite=True) for v in ([ids[i], *row] if need_ids else row)]
                for i, row in enumerate(rows)
            ]
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", values)  # noqa: S608
        else:
            raw = cursor.cursor  # the psycopg cursor, in the same transaction
            with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for i, row in enumerate(rows):
                    cells: list[Any] = [ids[i], *row] if need_ids else list(row)
                    for position in json_at:
                        value = cells[position]
                        if value is not None and not isinstance(value, str):
                            cells[position] = json.dumps(
                                value, cls=DjangoJSONEncoder, ensure_ascii=False
                            )
                    copy.write_row(cells)
    return ids


def ids_update(model: type[models.Model], ids: Sequence[int], **values: Any) -> None:
    """``UPDATE … SET values WHERE pk IN ids`` with one array parameter on PostgreSQL (a
    list of thousands of parameters costs more to send than the update itself)."""
    if not ids:
        return
    if connection.vendor == "postgresql":
        meta = model._meta
        assert meta.pk is not None
        sets = ", ".join(f"{connection.ops.quote_name(_column(model, k))} = %s" for k in values)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {sets} "  # noqa: S608
                f"WHERE {connection.ops.quote_name(meta.pk.column)} = ANY(%s)",
                [*values.values(), list(ids)],
            )
        return
    for start in range(0, len(ids), 900):
        model._default_manager.filter(pk__in=ids[start : start + 900]).update(**values)
