"""Rate limits hold across processes when they count in Redis (REDIS_URL): two separate
processes, as two gunicorn workers would be, share one sign-in budget."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REDIS = "redis://127.0.0.1:6379/15"

WORKER = textwrap.dedent("""
    import json, sys
    from flask_migrate import upgrade
    from marketplace import create_app
    from marketplace.config import TestConfig
    db_path, prefix, n, redis = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    app = create_app(type("C", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + db_path, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": redis, "RATELIMIT_KEY_PREFIX": prefix}))
    with app.app_context():
        upgrade()
    client = app.test_client()
    print(json.dumps([client.post("/login", data={"mobile": "13800000000", "password": "Wrong2026x"}).status_code
                      for _ in range(n)]))
""")


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_two_processes_share_one_budget_in_redis(tmp_path: Path):
    prefix = "test-" + secrets.token_hex(4)  # this run's own keys
    runs = []
    for worker in range(2):
        done = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / f"w{worker}.db"), prefix, "6", REDIS],
                              capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    # LOGIN_RATE_LIMIT is 10 a minute: the first process spends 6, the second gets 4 more.
    assert runs[0] == [401] * 6
    assert runs[1] == [401] * 4 + [429] * 2
