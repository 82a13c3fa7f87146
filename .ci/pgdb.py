"""Create or drop a throwaway PostgreSQL database for one test run: pgdb.py create|drop|url ADMIN_URL NAME.

A test database does not wait for the disk at each commit (synchronous_commit off: only what a
crash of the machine would keep changes, never what a transaction sees). Dropping NAME also drops
the databases the run made beside it (NAME_gw0… for pytest-xdist workers, see tests/conftest.py),
in case a run was killed before it dropped them itself."""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql


def main(action: str, admin_url: str, name: str) -> None:
    if action == "url":
        print(admin_url.rsplit("/", 1)[0] + "/" + name)
        return
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if action == "create":
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
        elif action == "drop":
            beside = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (name + "_gw",))
            for other in [row[0] for row in beside]:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(other)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            raise SystemExit(f"unknown action {action!r}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
