"""The throw-away database of ``raccord simulate``.

The operator's database is never touched: the command starts a child process of itself whose
environment points Django at a fresh SQLite file in a private temporary directory (mail,
media and caches go there too, tasks run in-process, nothing reaches a broker or an SMTP
server), plays the scenario there and deletes the directory.

Migrating a new database takes a few seconds, so the first run keeps a migrated copy (the
template) keyed by the content of every migration file; the next runs copy it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import django
from django.conf import settings

# Set in the child's environment: the process plays a scenario on this database file only.
CHILD_FLAG = "RACCORD_SIMULATION"
CHILD_DATABASE = "RACCORD_SIMULATION_DB"
CHILD_TEMPLATE = "RACCORD_SIMULATION_TEMPLATE"
CACHE_DIR_ENV = "RACCORD_SIMULATOR_CACHE"
# Anything that could reach the outside world or the operator's files.
SCRUBBED = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_BACKEND",
    "RACCORD_TEST_SQLITE_NAME",
)


@dataclass(frozen=True)
class ChildResult:
    returncode: int
    stdout: str
    stderr: str


def migrations_key() -> str:
    """A digest of every migration file (and Django's version): a new or edited migration
    makes a new template."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256(django.get_version().encode())
    for app_label, name in sorted(loader.disk_migrations):
        module = sys.modules[loader.disk_migrations[app_label, name].__module__]
        digest.update(f"{app_label}.{name}".encode())
        if module.__file__:
            digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path | None:
    """Where templates are kept, or None when no writable place is available."""
    base = Path(os.environ.get(CACHE_DIR_ENV) or Path(settings.DATA_DIR) / "simulator")
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return base if os.access(base, os.W_OK) else None


def child_env(*, database: Path, template: Path | None, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            CHILD_FLAG: "1",
            CHILD_DATABASE: str(database),
            CHILD_TEMPLATE: str(template) if template else "",
            "RACCORD_DATA_DIR": str(workdir),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            # stdout carries only the result; the jobs' monitoring lines and eager Celery's broker
            # warning would bury a real error on stderr.
            "LOG_LEVEL": "ERROR",
        }
    )
    return env


def sandbox_play(scenario_json: str, *, timeout: float = 600) -> ChildResult:
    """Play ``scenario_json`` in a child process on a throw-away database."""
    workdir = Path(tempfile.mkdtemp(prefix="raccord-simulation-"))
    try:
        database = workdir / "simulation.sqlite3"
        cache = cache_dir()
        template = cache / f"template-{migrations_key()}.sqlite3" if cache else None
        if template is not None and template.is_file():
            shutil.copyfile(template, database)
        completed = subprocess.run(
            [sys.executable, "-m", "raccord.manage", "simulate", "-"],
            input=scenario_json,
            capture_output=True,
            text=True,
            env=child_env(database=database, template=template, workdir=workdir),
            timeout=timeout,
            check=False,
        )
        return ChildResult(completed.returncode, completed.stdout, completed.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def child_database_prepare() -> None:
    """In the child: refuse any database but the throw-away file, migrate it when it is new
    and keep a copy of it as the template for the next runs."""
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    expected = os.environ.get(CHILD_DATABASE, "")
    name = str(connection.settings_dict.get("NAME", ""))
    if connection.vendor != "sqlite" or not expected or Path(name) != Path(expected):
        raise RuntimeError("the simulation child runs only on its own throw-away SQLite file")
    if connection.introspection.table_names():
        return
    call_command("migrate", verbosity=0, interactive=False)
    template = os.environ.get(CHILD_TEMPLATE)
    if not template:
        return
    partial = f"{template}.{os.getpid()}.tmp"
    try:
        with connection.cursor() as cursor:
            # A consistent, compact copy even while the WAL still holds the last pages.
            cursor.execute("VACUUM INTO %s", [partial])
        os.replace(partial, template)  # atomic: concurrent first runs never see half a file
    except (OSError, DatabaseError):
        # A missing template only costs the next run a migration.
        Path(partial).unlink(missing_ok=True)
