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

    @app.cli.command("plan")
    @click.option("--warehouse", "codes", multiple=True, help="Warehouse code (e.g. W-MG); default: all.")
    @click.option("--seconds", default=5.0, show_default=True, help="Solver time limit per warehouse.")
    def plan_command(codes: tuple[str, ...], seconds: float) -> None:
        """Plan routes from the database and store them as each warehouse's active plan."""
        import sqlalchemy as sa

        from .dispatch.models import PlanTrigger
        from .extensions import db
        from .logistics.models import Warehouse
        from .planning import services

        query = sa.select(Warehouse).order_by(Warehouse.code)
        if codes:
            query = query.where(Warehouse.code.in_(codes))
        warehouses = db.session.scalars(query).all()
        unknown = set(codes) - {w.code for w in warehouses}
        if unknown:
            raise click.BadParameter(f"unknown warehouse {', '.join(sorted(unknown))}", param_hint="--warehouse")
        for warehouse in warehouses:
            plan = services.plan_warehouse(warehouse.id, seconds=seconds, trigger=PlanTrigger.CLI)
            if plan is None:
                click.echo(f"{warehouse.code}: the active plan stays (orders placed meanwhile fit nowhere else)")
                continue
            click.echo(
                f"{warehouse.code}: plan #{plan.id}  orders {plan.stats['orders']}  vehicles {plan.vehicles_used}"
                f"  {plan.distance_m / 1000:.1f} km  unassigned {plan.stats['unassigned']}  broken {plan.stats['broken']}"
                f"{'  (kept the current routes)' if plan.stats['kept_current'] else ''}"
                f"{'  (fallback)' if plan.fallback else ''}  {plan.solve_seconds:.1f} s"
            )

    @app.cli.command("demo-accounts")
    def demo_accounts_command() -> None:
        """Print the demo accounts of every role."""
        from seed import load

        load.print_demo_accounts()
