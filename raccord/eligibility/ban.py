"""The national address base (BAN) CSV format, shared by the import and the generators.

Pure data, importable without Django settings (the benchmark writes files before setting up)."""

from __future__ import annotations

# The header of the BAN "adresses-*.csv" files, in order; the file is UTF-8 and ";"-separated.
BAN_COLUMNS = (
    "id",
    "id_fantoir",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "code_insee_ancienne_commune",
    "nom_ancienne_commune",
    "x",
    "y",
    "lon",
    "lat",
    "type_position",
    "alias",
    "nom_ld",
    "libelle_acheminement",
    "nom_afnor",
    "source_position",
    "source_nom_voie",
    "certification_commune",
    "cad_parcelles",
)
