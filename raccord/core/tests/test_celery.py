"""Celery runs eagerly without a broker, and sends to a real broker when one is configured."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from raccord.celery import app

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("RACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_without_a_broker_tasks_run_in_process():
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert app.conf.task_always_eager is True


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis unreachable at {REDIS_URL} on CI")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return client


def test_with_a_broker_a_queued_email_task_reaches_redis():
    client = _redis_or_skip()
    queue = f"raccord-test-{uuid.uuid4().hex}"
    script = (
        "import django; django.setup()\n"
        "from raccord.notifications.tasks import order_summary_email\n"
        f"order_summary_email.apply_async(args=[42], queue={queue!r})\n"
    )
    env = {
        **os.environ,
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "raccord.settings",
    }
    env.pop("DATABASE_URL", None)
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        # the task waits in the broker for a worker instead of running in the web process
        assert client.llen(queue) == 1
    finally:
        client.delete(queue)
