"""B8 for real: a run killed (SIGKILL) mid-way resumes and issues every document exactly once,
with gapless numbers. Runs the real command in a subprocess on a throw-away database: a SQLite
file, or, when the suite runs on PostgreSQL, a PostgreSQL database (where the run writes its
batches from a second thread while it computes the next)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
N = 3000


def _python(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'run.sqlite3'}"
        return
    import psycopg

    base, _name = suite_url.rsplit("/", 1)
    name = f"raccord_kill_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_a_killed_run_resumes_and_issues_each_document_once__B8(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RACCORD_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "raccord.settings",
        "LOG_LEVEL": "WARNING",
    }
    # given N active subscribers
    _python(
        "import sys; sys.path.insert(0, '.');"
        "from benchmarks.billing_run import _setup_django, generate;"
        f"_setup_django({env['DATABASE_URL']!r}); generate({N})",
        env,
    )
    command = [
        sys.executable,
        "-m",
        "raccord.manage",
        "billing",
        "run",
        "--month",
        "2027-03",
        "--batch-size",
        "100",
        "--no-pdf",
    ]
    # when the run is killed after a few batches
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("[") and f"{5 * 100}/" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    counted = json.loads(
        _python(
            "import django, json; django.setup();"
            "from raccord.billing.models import Document;"
            "print(json.dumps(Document.objects.count()))",
            env,
        )
    )
    assert 0 < counted < N
    # then running it again completes it
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(
        _python(
            "import django, json; django.setup();"
            "from raccord.billing.models import BillingRun, Document;"
            "numbers = list(Document.objects.order_by('id').values_list('number', flat=True));"
            "print(json.dumps({'documents': len(numbers), 'customers': Document.objects.values('customer').distinct().count(),"
            " 'numbers': numbers, 'status': BillingRun.objects.get().status}))",
            env,
        )
    )
    # each subscriber has exactly one document and the series has no gap
    assert report["documents"] == report["customers"] == N
    assert report["numbers"] == [f"F2027-{n:06d}" for n in range(1, N + 1)]
    assert report["status"] == "done"
    if database_url.startswith("postgres"):
        # and the subscriptions' billed_through moved in place (HOT updates: no index touched;
        # the table leaves half of each page free, contracts migration 0008)
        hot, updated = _subscription_updates(env)
        assert updated >= N
        assert hot >= 0.9 * updated, (hot, updated)


# The statistics of the run's backends, once they have exited and flushed them.
_UPDATES = """
import json, time
import django
django.setup()
from django.db import connection
cursor = connection.cursor()
deadline = time.monotonic() + 10
while True:
    cursor.execute(
        "SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables"
        " WHERE relname = 'contracts_subscription'"
    )
    row = cursor.fetchone()
    if row[1] >= %(n)d or time.monotonic() > deadline:
        break
    time.sleep(0.2)
    cursor.execute("SELECT pg_stat_clear_snapshot()")
print(json.dumps(row))
"""


def _subscription_updates(env: dict[str, str]) -> tuple[int, int]:
    hot, updated = json.loads(_python(_UPDATES % {"n": N}, env))
    return hot, updated
