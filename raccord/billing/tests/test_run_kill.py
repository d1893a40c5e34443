"""B8 for real: a run killed (SIGKILL) mid-way resumes and issues every document exactly once,
with gapless numbers. Runs the real command in a subprocess on a throw-away SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


@pytest.mark.slow
def test_a_killed_run_resumes_and_issues_each_document_once__B8(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
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
