"""A deterministic demo address base in the BAN CSV format.

Real communes with their real INSEE and postal codes: the demo zones cover departments 67 and 68
and the commune of Saint-Dié-des-Vosges (88413); Nancy, Épinal and Ajaccio (Corsica, INSEE 2A004)
are outside every zone. Street names carry accents, apostrophes and hyphens, and some numbers
have a repetition index (bis, ter) so the type-ahead can be tried on all of them.

The committed file ``data/demo-ban.csv`` is ``demo_addresses_csv(DEMO_BAN_PATH)``; regenerate it
with ``python -m raccord.eligibility.demo_addresses``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from raccord.eligibility.ban import BAN_COLUMNS
from raccord.eligibility.search_keys import search_normalize

DEMO_BAN_PATH = Path(__file__).resolve().parent / "data" / "demo-ban.csv"
DEMO_COUNT = 3000


@dataclass(frozen=True)
class DemoCommune:
    code_insee: str
    code_postal: str
    nom: str
    lon: float
    lat: float
    x: float  # Lambert-93, approximate
    y: float
    weight: int
    streets: tuple[str, ...]


COMMON_STREETS = (
    "Rue des Écoles",
    "Place du Marché",
    "Rue de l'Église",
    "Avenue Jean-Jaurès",
    "Rue du Général-de-Gaulle",
    "Rue Pasteur",
    "Rue Victor-Hugo",
    "Chemin du Moulin",
    "Impasse des Sœurs",
    "Rue de la Gare",
    "Allée des Tilleuls",
    "Rue Sainte-Odile",
    "Rue d'Alsace",
    "Rue des Prés",
    "Boulevard de l'Europe",
    "Rue du Château",
    "Rue des Vergers",
    "Place de la Mairie",
    "Rue de la Forêt",
    "Rue Jeanne-d'Arc",
    "Quai des Bateliers",
    "Rue du 8 Mai 1945",
    "Route de Colmar",
    "Rue des Œillets",
    "Grand'Rue",
)

COMMUNES = (
    DemoCommune(
        "67482",
        "67000",
        "Strasbourg",
        7.7521,
        48.5734,
        1050500,
        6840600,
        30,
        (
            "Rue du Vieux-Marché-aux-Poissons",
            "Quai Saint-Nicolas",
            "Rue du 22 Novembre",
            "Place Kléber",
            "Rue des Frères",
            "Avenue de la Forêt-Noire",
            "Rue d'Austerlitz",
            "Petite Rue de l'Église",
            "Rue de l'Écarlate",
            "Impasse de l'Ours",
        ),
    ),
    DemoCommune(
        "67462",
        "67600",
        "Sélestat",
        7.4540,
        48.2594,
        1029000,
        6804900,
        9,
        ("Rue de l'Hôpital", "Boulevard du Maréchal-Joffre", "Rue des Chevaliers"),
    ),
    DemoCommune(
        "67348",
        "67210",
        "Obernai",
        7.4819,
        48.4622,
        1031100,
        6827400,
        7,
        ("Rue du Général-Gouraud", "Place de l'Étoile", "Rue des Pèlerins"),
    ),
    DemoCommune(
        "68066",
        "68000",
        "Colmar",
        7.3579,
        48.0794,
        1023400,
        6784500,
        15,
        ("Rue des Marchands", "Quai de la Poissonnerie", "Rue d'Unterlinden"),
    ),
    DemoCommune(
        "68224",
        "68100",
        "Mulhouse",
        7.3389,
        47.7508,
        1024300,
        6748000,
        16,
        ("Rue du Sauvage", "Place de la Réunion", "Avenue Aristide-Briand"),
    ),
    DemoCommune(
        "88413",
        "88100",
        "Saint-Dié-des-Vosges",
        6.9497,
        48.2844,
        986100,
        6808900,
        11,
        ("Rue Thiers", "Quai du Maréchal-Leclerc", "Rue d'Hellieule"),
    ),
    # Outside the demo zones.
    DemoCommune(
        "54395",
        "54000",
        "Nancy",
        6.1844,
        48.6921,
        933900,
        6847000,
        6,
        ("Place Stanislas", "Rue Saint-Dizier", "Grande Rue"),
    ),
    DemoCommune(
        "88160",
        "88000",
        "Épinal",
        6.4503,
        48.1724,
        954200,
        6790800,
        3,
        ("Quai des Bons-Enfants", "Rue Léopold-Bourg"),
    ),
    DemoCommune(
        "2A004",
        "20000",
        "Ajaccio",
        8.7369,
        41.9192,
        1180700,
        6108600,
        3,
        ("Cours Napoléon", "Boulevard Pascal-Rossini"),
    ),
)


def _afnor(text: str) -> str:
    return search_normalize(text).upper()[:32]


def demo_address_rows(count: int = DEMO_COUNT, *, seed: int = 2026) -> Iterator[list[str]]:
    """``count`` BAN rows (without the header), always the same for the same arguments."""
    rng = random.Random(seed)
    total_weight = sum(commune.weight for commune in COMMUNES)
    for commune in COMMUNES:
        quota = max(1, round(count * commune.weight / total_weight))
        streets = [*COMMON_STREETS[:2], *commune.streets, *COMMON_STREETS[2:]]
        written = 0
        # Every street of every commune, the same length each; the repetition indices make the
        # total a little longer, so the share keeps a margin and the quota cuts the last street.
        numbers = max(3, quota * 9 // (10 * len(streets)))
        for street_index, street in enumerate(streets):
            if written >= quota:
                break
            fantoir = f"{commune.code_insee}_{(street_index + 1) * 10:04d}"
            street_lon = commune.lon + rng.uniform(-0.02, 0.02)
            street_lat = commune.lat + rng.uniform(-0.015, 0.015)
            for numero in range(1, numbers + 1):
                if written >= quota:
                    break
                reps = [""]
                draw = rng.random()
                if draw < 0.08:
                    reps.append("bis")
                if draw < 0.02:
                    reps.append("ter")
                for rep in reps:
                    lon = round(street_lon + numero * 0.00012 + rng.uniform(0, 0.00005), 6)
                    lat = round(street_lat + numero * 0.00004, 6)
                    x = round(commune.x + (lon - commune.lon) * 73600, 2)
                    y = round(commune.y + (lat - commune.lat) * 111200, 2)
                    ban_id = f"{fantoir}_{numero:05d}" + (f"_{rep}" if rep else "")
                    yield [
                        ban_id,
                        fantoir,
                        str(numero),
                        rep,
                        street,
                        commune.code_postal,
                        commune.code_insee,
                        commune.nom,
                        "",
                        "",
                        f"{x:.2f}",
                        f"{y:.2f}",
                        f"{lon:.6f}",
                        f"{lat:.6f}",
                        "entrée",
                        "",
                        "",
                        _afnor(commune.nom),
                        _afnor(street),
                        "commune",
                        "commune",
                        "1",
                        "",
                    ]
                    written += 1


def demo_addresses_csv(path: Path | str, *, count: int = DEMO_COUNT, seed: int = 2026) -> int:
    """Write the demo BAN file to ``path``; returns the number of address rows."""
    rows = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(BAN_COLUMNS)
        for row in demo_address_rows(count, seed=seed):
            writer.writerow(row)
            rows += 1
    return rows


if __name__ == "__main__":
    written = demo_addresses_csv(DEMO_BAN_PATH)
    print(f"{written} adresses écrites dans {DEMO_BAN_PATH}")
