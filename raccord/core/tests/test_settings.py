"""Settings come from the environment; production refuses unsafe values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _boot(env: dict[str, str], code: str = "print('ok')") -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "RACCORD_ENV", "DATABASE_URL"}
    }
    full_env.update(env)
    full_env["DJANGO_SETTINGS_MODULE"] = "raccord.settings"
    script = f"import django; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_debug():
    result = _boot({"RACCORD_ENV": "production", "DEBUG": "true", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "refuses DEBUG" in result.stderr


def test_production_refuses_the_default_secret():
    result = _boot({"RACCORD_ENV": "production", "DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_a_real_secret_and_secure_cookies(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CELERY_TASK_ALWAYS_EAGER)"
    result = _boot(
        {"RACCORD_ENV": "production", "SECRET_KEY": "s" * 50, "RACCORD_DATA_DIR": str(tmp_path)},
        code,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_database_and_broker_come_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['CONN_MAX_AGE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = _boot(
        {
            "DATABASE_URL": "postgres://u@db.example:5432/raccord",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        },
        code,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "raccord", "60", "False"]
    result = _boot({"RACCORD_DATA_DIR": str(tmp_path)}, code)
    assert result.stdout.split()[:2] == [
        "django.db.backends.sqlite3",
        str(tmp_path / "raccord.sqlite3"),
    ]
    assert result.stdout.split()[3] == "True"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_logs_are_structured_and_never_show_an_iban(fmt):
    code = "import logging; logging.getLogger('raccord.test').info('mandat %s', 'FR7630006000011234567890189')"
    result = _boot({"RACCORD_LOG_FORMAT": fmt}, code)
    assert result.returncode == 0, result.stderr
    assert "FR76 **** **** 0189" in result.stderr
    assert "30006000011234567890189" not in result.stderr
    if fmt == "json":
        import json

        line = json.loads(result.stderr.strip().splitlines()[-1])
        assert line["levelname"] == "INFO" and line["name"] == "raccord.test"
