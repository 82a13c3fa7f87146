"""Create or drop a throwaway PostgreSQL database for one test run: pgdb.py create|drop|url ADMIN_URL NAME."""

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
        elif action == "drop":
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            raise SystemExit(f"unknown action {action!r}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
