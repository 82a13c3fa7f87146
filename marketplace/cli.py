"""Flask CLI commands: `flask seed`, and the commands each area adds."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--history-days", default=14, show_default=True, help="Days of historical orders.")
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    def seed_command(history_days: int, quiet: bool) -> None:
        """Load the demo county (idempotent: running it twice changes nothing)."""
        from seed import load

        counts = load.seed_all(history_days=history_days, progress=not quiet)
        width = max(map(len, counts))
        for table, n in counts.items():
            click.echo(f"  {table:<{width}}  {n}")

    @app.cli.command("demo-accounts")
    def demo_accounts_command() -> None:
        """Print the demo accounts of every role."""
        from seed import load

        load.print_demo_accounts()
