"""Address base benchmark: BAN import rate and type-ahead search latency, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/address_search.py [--rows 1000000] [--queries 3000]

Generates a deterministic national-size BAN file, imports it with the real import service into
a throw-away database (a temporary SQLite file, then a PostgreSQL database it creates and drops:
``raccord_bench_h1`` on ``$RACCORD_BENCH_PG_URL``, default postgres://postgres@127.0.0.1:5432),
and times ``address_search`` on realistic queries. Goals: import > 20,000 rows/s, search p99 <
30 ms. Each database runs in its own child process (Django reads DATABASE_URL once at setup),
one after the other, so every figure is one process on one core.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from raccord.eligibility.ban import BAN_COLUMNS  # noqa: E402

IMPORT_GOAL_ROWS_PER_S = 20_000
SEARCH_GOAL_P99_MS = 30.0
PG_DATABASE = "raccord_bench_h1"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"

STREET_TYPES = (
    ("Rue", 40),
    ("Avenue", 6),
    ("Chemin", 10),
    ("Impasse", 8),
    ("Place", 4),
    ("Allée", 5),
    ("Route", 7),
    ("Boulevard", 2),
    ("Quai", 1),
    ("Sentier", 2),
    ("Lotissement", 2),
    ("Résidence", 2),
    ("Cours", 1),
)
STREET_NAMES = """des Écoles|du Marché|de l'Église|Jean-Jaurès|du Général-de-Gaulle|Pasteur|Victor-Hugo
|du Moulin|des Sœurs|de la Gare|des Tilleuls|Sainte-Odile|d'Alsace|des Prés|de l'Europe|du Château
|des Vergers|de la Mairie|de la Forêt|Jeanne-d'Arc|des Bateliers|du 8 Mai 1945|des Lilas|des Roses
|des Acacias|des Peupliers|des Chênes|des Érables|du Stade|de la Paix|de la République|de la Liberté
|Gambetta|Voltaire|Jean-Moulin|Charles-de-Gaulle|Foch|Clemenceau|Jules-Ferry|Louis-Pasteur
|Émile-Zola|Anatole-France|Georges-Clemenceau|du Maréchal-Leclerc|du Maréchal-Foch|de Verdun
|des Fleurs|des Jardins|du Lavoir|de la Fontaine|du Puits|de la Chapelle|du Calvaire|de la Croix
|des Champs|des Vignes|du Vignoble|de la Source|de la Rivière|du Ruisseau|de l'Étang|du Lac
|des Bois|de la Colline|du Coteau|des Sapins|des Hêtres|des Bouleaux|des Saules|des Aulnes
|de l'Industrie|du Commerce|de l'Artisanat|des Artisans|des Tanneurs|des Tisserands|des Forgerons
|du Four|de la Poste|de l'Hôpital|du Cimetière|de la Tuilerie|de la Scierie|de la Brasserie
|Saint-Martin|Saint-Nicolas|Saint-Jacques|Saint-Michel|Saint-Pierre|Sainte-Anne|Saint-Exupéry
|Albert-Schweitzer|Pierre-Curie|Marie-Curie|Louis-Blériot|Jean-Monnet|Robert-Schuman|Molière
|Lamartine|Alfred-de-Musset|George-Sand|Hector-Berlioz|Claude-Debussy|Maurice-Ravel|Mozart
|du Nord|du Sud|de l'Est|de l'Ouest|du Centre|Principale|Haute|Basse|Neuve|Longue|Étroite
|du Château-d'Eau|de la Digue|du Canal|de l'Écluse|du Port|des Pêcheurs|des Mésanges|des Alouettes
|des Hirondelles|des Fauvettes|des Primevères|des Bleuets|des Coquelicots|des Myosotis|des Iris
|du Muguet|des Jonquilles|des Violettes|des Marguerites|des Glycines|des Mimosas|des Lavandes
|de Strasbourg|de Colmar|de Mulhouse|de Nancy|de Metz|de Paris|de Lyon|de Bâle|de Sélestat
|d'Obernai|de Haguenau|de Saverne|de Molsheim|de Thann|de Guebwiller|de Ribeauvillé|d'Épinal
|de la Liberation|du 11 Novembre|du 14 Juillet|du 19 Mars 1962|du 22 Novembre|de la Libération
|des Alliés|des Américains|de Lattre-de-Tassigny|du Docteur-Schweitzer|de l'Abbé-Grégoire
|des Cerisiers|des Pommiers|des Poiriers|des Noyers|des Mirabelliers|des Houblonnières|du Tabac
|des Remparts|des Fossés|de la Citadelle|du Bastion|des Casernes|de la Manufacture|du Tribunal
""".replace("\n", "").split("|")
COMMUNE_ROOTS = """Ober|Nieder|Hoch|Alt|Neu|Mittel|Unter|Bisch|Dorn|Ingers|Wolf|Ros|Stein|Mar|Ber
|Eck|Hun|Lau|Wint|Geis|Mols|Schaef|Kirch|Buch|Esch|Hatt|Rei|Blotz|Dach|Gries|Mun|Wal|Bol
|Chaten|Vaux|Mont|Bel|Beau|Roche|Ville|Fonte|Cour|Val|Bois|Cha|Lan|Sar|Tour|Pont|Mar|Gond""".replace(
    "\n", ""
).split("|")
COMMUNE_SUFFIXES = (
    "heim",
    "willer",
    "bach",
    "hausen",
    "dorf",
    "bourg",
    "ville",
    "court",
    "mont",
    "lieu",
    "fontaine",
    "y",
    "ange",
)
COMMUNE_PATTERNS = (
    "{root}{suffix}",
    "{root}{suffix}",
    "{root}{suffix}",
    "Saint-{root}{suffix}",
    "{root}{suffix}-sur-Moselle",
    "{root}{suffix}-le-Château",
    "Sainte-Croix-en-{root}{suffix}",
    "{root}{suffix}-lès-Bains",
    "L'{root}{suffix}",
)
DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]


def _plain(text: str) -> str:
    """What someone typing without accents writes: "Sœurs" → "soeurs", "Écoles" → "ecoles"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    return decomposed.encode("ascii", "ignore").decode().lower()


def generate(path: Path, rows: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """Write ``rows`` BAN rows to ``path``; return a sample of the addresses (for the queries)."""
    rng = random.Random(seed)
    type_names = [name for name, weight in STREET_TYPES for _ in range(weight)]
    sample: list[dict[str, Any]] = []
    written = 0
    commune_index = 0
    used_communes: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(BAN_COLUMNS)
        while written < rows:
            commune_index += 1
            department = DEPARTMENTS[commune_index % len(DEPARTMENTS)]
            code_insee = f"{department}{(commune_index // len(DEPARTMENTS)) % 900 + 1:03d}"
            postal_prefix = "20" if department in ("2A", "2B") else department
            code_postal = f"{postal_prefix}{rng.randrange(0, 1000):03d}"
            name = rng.choice(COMMUNE_PATTERNS).format(
                root=rng.choice(COMMUNE_ROOTS), suffix=rng.choice(COMMUNE_SUFFIXES)
            )
            while name in used_communes:
                name = f"{name}-{rng.choice(COMMUNE_ROOTS)}"
            used_communes.add(name)
            # Commune sizes vary from hamlets to towns, as in the real base.
            street_count = min(len(STREET_NAMES), int(rng.paretovariate(1.2) * 12))
            lon0 = rng.uniform(-4.5, 8.0)
            lat0 = rng.uniform(42.5, 51.0)
            for street_number, street_name in enumerate(rng.sample(STREET_NAMES, street_count)):
                street = f"{rng.choice(type_names)} {street_name}"
                fantoir = f"{code_insee}_{street_number:04d}"
                house_count = max(1, int(rng.expovariate(1 / 13)))
                for numero in range(1, house_count + 1):
                    reps = ("", "bis") if rng.random() < 0.05 else ("",)
                    for rep in reps:
                        lon = lon0 + rng.random() * 0.05
                        lat = lat0 + rng.random() * 0.05
                        ban_id = f"{fantoir}_{numero:05d}" + (f"_{rep}" if rep else "")
                        writer.writerow(
                            (
                                ban_id,
                                fantoir,
                                numero,
                                rep,
                                street,
                                code_postal,
                                code_insee,
                                name,
                                "",
                                "",
                                "",
                                "",
                                f"{lon:.6f}",
                                f"{lat:.6f}",
                                "entrée",
                                "",
                                "",
                                "",
                                "",
                                "commune",
                                "commune",
                                "1",
                                "",
                            )
                        )
                        written += 1
                        if written % 331 == 0:
                            sample.append(
                                {
                                    "numero": numero,
                                    "rep": rep,
                                    "voie": street,
                                    "cp": code_postal,
                                    "commune": name,
                                    "ban_id": ban_id,
                                }
                            )
                        if written >= rows:
                            return sample
    return sample


def queries_build(
    sample: list[dict[str, Any]], count: int, *, seed: int = 2
) -> list[dict[str, Any]]:
    """Realistic type-ahead queries: full, commune first, postal code, half-typed, misses."""
    rng = random.Random(seed)
    queries: list[dict[str, Any]] = []
    for index in range(count):
        address = sample[rng.randrange(len(sample))]
        number = f"{address['numero']}{' bis' if address['rep'] else ''}"
        voie = address["voie"]
        commune = address["commune"]
        voie_words = voie.split(" ", 1)[1]  # without the street type
        kind = index % 8
        if kind == 0:  # "12 rue des ecoles strasb"
            text = f"{number} {_plain(voie)} {_plain(commune)[: rng.randint(4, 8)]}"
        elif kind == 1:  # "Saint-Dié place marché 3"
            text = f"{commune} {voie} {number}"
        elif kind == 2:  # "67000 école"
            text = f"{address['cp']} {voie_words.split()[-1][:5]}"
        elif kind == 3:  # keystrokes: the full query cut while typing
            full = f"{number} {voie} {commune}"
            text = full[: rng.randint(6, len(full))]
        elif kind == 4:  # upper case, no accents, no type
            text = f"{number} {_plain(voie_words).upper()} {commune.upper()}"
        elif kind == 5:  # street only, being typed
            text = f"{voie}"[: rng.randint(5, len(voie))]
        elif kind == 6:  # hyphens and apostrophes as spaces
            text = f"{number} {voie.replace('-', ' ').replace(chr(39), ' ')} {address['cp']}"
        else:  # nothing to find
            text = f"{number} rue {rng.choice(['zorglub', 'xqwert', 'ytterbium'])}"
        queries.append({"text": text, "expect": address["ban_id"] if kind in (0, 1, 4) else None})
    return queries


def _child(backend: str, csv_path: Path, queries_path: Path, workdir: Path) -> dict[str, Any]:
    """Run in a child process: set up Django on one database, import, search, report JSON."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "raccord.settings"
    os.environ["RACCORD_DATA_DIR"] = str(workdir)
    os.environ["DEBUG"] = "false"
    admin_url = ""
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        base = os.environ.get("RACCORD_BENCH_PG_URL", DEFAULT_PG_URL).rstrip("/")
        admin_url = f"{base}/postgres"
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
                admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        except psycopg.OperationalError as error:
            return {"skipped": f"PostgreSQL unreachable ({str(error).strip()[:120]})"}
        os.environ["DATABASE_URL"] = f"{base}/{PG_DATABASE}"
        os.environ["CONN_MAX_AGE"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from raccord.eligibility.models import Address, Street, StreetToken
    from raccord.eligibility.selectors import address_search
    from raccord.eligibility.services import address_import

    try:
        call_command("migrate", verbosity=0)
        with csv_path.open(encoding="utf-8", newline="") as stream:
            started = time.perf_counter()
            job = address_import(stream=stream, file_name=csv_path.name, started_at=timezone.now())
            import_seconds = time.perf_counter() - started
        with csv_path.open(encoding="utf-8", newline="") as stream:
            started = time.perf_counter()
            rerun = address_import(
                stream=stream, file_name=csv_path.name, started_at=timezone.now()
            )
            rerun_seconds = time.perf_counter() - started
        counts = {
            "addresses": Address.objects.count(),
            "streets": Street.objects.count(),
            "tokens": StreetToken.objects.count(),
        }
        queries = json.loads(queries_path.read_text())
        for query in queries[:50]:  # warm the caches like a running server
            address_search(query=query["text"])
        timings = []
        found = listed = expected = empty = 0
        for query in queries:
            started = time.perf_counter()
            results = address_search(query=query["text"], limit=10)
            timings.append((time.perf_counter() - started) * 1000)
            if not results:
                empty += 1
            if query["expect"]:
                expected += 1
                found += bool(results) and results[0].ban_id == query["expect"]
                listed += any(address.ban_id == query["expect"] for address in results)
        timings.sort()
        return {
            "backend": connection.vendor,
            "rows_read": job.rows_read,
            "rows_created": job.rows_created,
            "rows_rejected": job.rows_rejected,
            "import_seconds": import_seconds,
            "rerun_seconds": rerun_seconds,
            "rerun_created": rerun.rows_created,
            "rerun_updated": rerun.rows_updated,
            **counts,
            "queries": len(timings),
            "p50_ms": statistics.median(timings),
            "p90_ms": timings[int(len(timings) * 0.90) - 1],
            "p99_ms": timings[int(len(timings) * 0.99) - 1],
            "max_ms": timings[-1],
            "top1_hits": found,
            "top10_hits": listed,
            "top1_expected": expected,
            "empty_results": empty,
        }
    finally:
        connections.close_all()
        if admin_url:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def _print(result: dict[str, Any], label: str) -> None:
    if "skipped" in result:
        print(f"== {label}: skipped: {result['skipped']}")
        return
    rate = result["rows_read"] / result["import_seconds"]
    print(f"== {label}")
    print(
        f"  import: {result['rows_read']:,} rows in {result['import_seconds']:.1f} s = "
        f"{rate:,.0f} rows/s (goal {IMPORT_GOAL_ROWS_PER_S:,}: ratio {rate / IMPORT_GOAL_ROWS_PER_S:.2f}x)"
        f"; {result['rows_created']:,} created, {result['rows_rejected']} rejected"
    )
    rerun_rate = result["rows_read"] / result["rerun_seconds"]
    print(
        f"  same file again: {rerun_rate:,.0f} rows/s, {result['rerun_created']} created, "
        f"{result['rerun_updated']} updated"
    )
    print(
        f"  index: {result['addresses']:,} addresses, {result['streets']:,} streets, "
        f"{result['tokens']:,} tokens"
    )
    p99 = result["p99_ms"]
    print(
        f"  search: {result['queries']:,} queries, p50 {result['p50_ms']:.2f} ms, "
        f"p90 {result['p90_ms']:.2f} ms, p99 {p99:.2f} ms, max {result['max_ms']:.1f} ms "
        f"(goal p99 < {SEARCH_GOAL_P99_MS:.0f} ms: {p99 / SEARCH_GOAL_P99_MS:.2f} of the limit)"
    )
    print(
        f"  quality: of {result['top1_expected']} complete queries, the address typed is first "
        f"for {result['top1_hits']} and listed for {result['top10_hits']} (the others name a "
        f"commune by a prefix several communes share); {result['empty_results']} queries "
        "without result (1 in 8 queries names a street that does not exist)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:  # child process
        result = _child(
            args.backend, args.work / "ban.csv", args.work / "queries.json", args.work / "data"
        )
        (args.work / f"{args.backend}.json").write_text(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="raccord-bench-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        started = time.perf_counter()
        sample = generate(work / "ban.csv", args.rows)
        size_mb = (work / "ban.csv").stat().st_size / 1e6
        print(
            f"generated {args.rows:,} BAN rows ({size_mb:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        (work / "queries.json").write_text(json.dumps(queries_build(sample, args.queries)))
        for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
            subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--work", str(work)],
                check=True,
            )
            _print(json.loads((work / f"{backend}.json").read_text()), label)


if __name__ == "__main__":
    main()
