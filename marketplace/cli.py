"""Flask CLI commands: `flask seed`, and the commands each area adds."""

from __future__ import annotations

import click
from flask import Flask

from .auth.models import Role


def _is_embedded_demo(app: Flask) -> bool:
    """The embedded default: a SQLite file, not served over HTTPS."""
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not app.config.get("HTTPS")


def init_app(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--history-days", default=14, show_default=True, help="Days of historical orders.")
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    @click.option("--demo", is_flag=True,
                  help="Confirm that this database is a demo (needed unless it is the embedded SQLite one).")
    def seed_command(history_days: int, quiet: bool, demo: bool) -> None:
        """Load the demo county (idempotent: running it twice changes nothing). Its accounts, staff
        included, share a published password, so it is refused on what may be a real deployment
        (another database than the embedded SQLite file, or served over HTTPS) without --demo."""
        from seed import load

        if not demo and not _is_embedded_demo(app):
            raise click.UsageError(
                "flask seed loads the demo county, whose accounts (an operator among them) share a published "
                "password. This database is not the embedded SQLite demo; if it is a demo, run `flask seed "
                "--demo`. For a real deployment create staff accounts with `flask create-user`."
            )
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

    @app.cli.command("create-user")
    @click.option("--mobile", required=True, help="11-digit mobile number (the sign-in name).")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--name", default="", help="Display name.")
    @click.option("--cooperative", "cooperative_code", default=None, help="Cooperative code (for coop_head).")
    @click.password_option(help="Asked for (twice) when not given.")
    def create_user_command(mobile: str, role: str, name: str, cooperative_code: str | None, password: str) -> None:
        """Create an account of any role with a password of your choice (a deployment's first operator)."""
        from .auth import services as auth_services
        from .errors import DomainError

        try:
            user = auth_services.create_account(mobile, password, Role(role), name=name,
                                                cooperative_code=cooperative_code)
        except DomainError as error:
            raise click.UsageError(error.message) from None
        click.echo(f"created {user.role.value} {user.mobile} (id {user.id})")

    @app.cli.command("simulate")
    @click.option("--days", default=1, show_default=True, type=click.IntRange(1, 60), help="Days to simulate.")
    @click.option("--scale", type=click.Choice(["county", "prefecture"]), default="county", show_default=True,
                  help="The demo county (3 warehouses), or a prefecture of 6 copies of it side by side (18).")
    @click.option("--orders-per-day", default=None, type=click.IntRange(1, 100_000),
                  help="Orders consumers try to place a day.  [default: 200 a county, 34,000 a prefecture]")
    @click.option("--seed", default=1, show_default=True, help="Random seed (demand, roads, complaints).")
    @click.option("--no-feedback", is_flag=True, help="Do not run the learner (the feedback loop).")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), default=None,
                  help="Write the KPIs to this JSON file.")
    @click.option("--database-url", default=None,
                  help="The simulation's own database (empty, or made by an earlier run); default: a new SQLite file.")
    @click.option("--start", default="2026-12-01", show_default=True, help="First simulated day (Shanghai date).")
    @click.option("--solve-seconds", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
                  help="Solver time limit per warehouse and re-plan.")
    @click.option("--replan-minutes", default=5, show_default=True, type=click.IntRange(1, 120),
                  help="Minutes between re-plans.")
    @click.option("--start-hour", default=0, show_default=True, type=click.IntRange(0, 23),
                  help="Shanghai hour the run starts at on the first day.")
    @click.option("--hours", default=None, type=click.FloatRange(0.25, 24 * 60),
                  help="Simulate only this many hours from the start: the orders of those hours at the full daily "
                       "rate (a day's orders spread by the daily profile).")
    @click.option("--no-drain", is_flag=True,
                  help="Stop at the end of the simulated time (default: drive on until every order is made).")
    @click.option("--queue", "queue", type=click.Choice(["inline", "celery"]), default=None,
                  help="Plan each re-plan cycle in this process, or on a Celery queue of the run's own (the "
                       "database must then be PostgreSQL).  [default: this app's PLANNING_QUEUE]")
    @click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 32),
                  help="With --queue celery: start this many worker processes for the run (0: wait for workers "
                       "started by hand; the command is printed).")
    def simulate_command(days: int, scale: str, orders_per_day: int | None, seed: int, no_feedback: bool,
                         report_path: str | None, database_url: str | None, start: str, solve_seconds: float,
                         replan_minutes: int, start_hour: int, hours: float | None, no_drain: bool,
                         queue: str | None, workers: int) -> None:
        """Simulate days of the demo county (or a prefecture of it) on the real services and a
        simulated clock, on a database of its own (never this app's), and print the KPIs."""
        from datetime import date, datetime, time
        from zoneinfo import ZoneInfo

        from .simulation import engine, kpi, planning_queue

        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise click.BadParameter("a date like 2026-12-01", param_hint="--start") from None
        if database_url and database_url == app.config["SQLALCHEMY_DATABASE_URI"]:
            raise click.UsageError("--database-url is this app's own database: the simulator needs one of its own.")
        queue = queue or app.config.get("PLANNING_QUEUE", "inline")
        if queue == "celery":
            try:
                planning_queue.refuse_sqlite(database_url or "sqlite://")
            except planning_queue.QueueRefused as error:
                raise click.UsageError(str(error)) from None
        if workers and queue != "celery":
            raise click.UsageError("--workers starts planning workers for --queue celery only.")
        if orders_per_day is None:
            orders_per_day = 34_000 if scale == "prefecture" else 200
        settings = engine.Settings(days=days, orders_per_day=orders_per_day, seed=seed, feedback=not no_feedback,
                                   start=datetime.combine(first, time(start_hour), ZoneInfo("Asia/Shanghai")),
                                   solve_seconds=solve_seconds, replan_minutes=replan_minutes, hours=hours,
                                   drain=not no_drain, scale=scale, queue=queue, workers=workers,
                                   broker_url=app.config["CELERY_BROKER_URL"],
                                   result_backend=app.config["CELERY_RESULT_BACKEND"])
        span = f"{hours:g} hour(s) from {start_hour:02d}:00" if hours else f"{days} day(s)"
        bar = click.progressbar(length=1, label=f"Simulating {span} of a {scale}")
        with bar:
            def total(n: int) -> None:
                bar.length = n

            try:
                outcome = engine.run(settings, database_url, progress=bar.update, on_total=total)
            except (engine.RefusedDatabase, planning_queue.QueueRefused) as error:
                raise click.UsageError(str(error)) from None
        click.echo(kpi.render(outcome.report))
        click.echo(planning_queue.render(outcome.report["planning_cycles"]))
        click.echo(f"database: {outcome.url}  wall time: {outcome.wall_seconds:.0f} s")
        if report_path:
            import json

            with open(report_path, "w", encoding="utf-8") as handle:
                json.dump(outcome.report, handle, indent=2, ensure_ascii=False)
            click.echo(f"report: {report_path}")

    @app.cli.command("demo-accounts")
    def demo_accounts_command() -> None:
        """Print the demo accounts of every role."""
        from seed import load

        load.print_demo_accounts()
