"""The ``kefu`` command: serve, migrate, demo, and the operator's small tools.

Every command reads settings first; a wrong setting or an unreachable database ends the
command with a one-line reason and a distinct exit code, never a traceback.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import NoReturn

import click
from sqlalchemy import Engine

from kefu import __version__
from kefu.clock import SystemClock
from kefu.coach.cli import coach
from kefu.config import Settings, SettingsError, load_settings
from kefu.db import (
    DatabaseUnavailable,
    check_database,
    ensure_sqlite_directory,
    make_engine,
    make_session_factory,
)
from kefu.errors import DomainError
from kefu.events import EventBus
from kefu.logs import configure_logging
from kefu.nlp.cli import nlp
from kefu.uow import UnitOfWork

EXIT_SETTINGS = 2
EXIT_DATABASE = 3
EXIT_NOT_MIGRATED = 4
EXIT_REFUSED = 5


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"kefu: {message}", err=True)
    sys.exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(f"configuration error: {exc}", EXIT_SETTINGS)


def engine_or_exit(settings: Settings) -> Engine:
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        check_database(engine)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)
    return engine


def migrated_engine_or_exit(settings: Settings) -> Engine:
    from kefu import migrate

    engine = engine_or_exit(settings)
    if not migrate.is_up_to_date(engine):
        fail("the database schema is not up to date; run 'kefu migrate' first", EXIT_NOT_MIGRATED)
    return engine


def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    session_factory = make_session_factory(engine)
    bus, clock = EventBus(), SystemClock()
    return lambda: UnitOfWork(session_factory, bus, clock)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kefu")
def main() -> None:
    """Kefu (客服): customer-service desk for online shops.

    Settings come from KEFU_* environment variables (see README.md).
    """


@main.command()
@click.option("--host", default=None, help="Address to bind (default: KEFU_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: KEFU_PORT, 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app, API and pages."""
    import uvicorn

    from kefu.app import create_app

    settings = settings_or_exit()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    engine = migrated_engine_or_exit(settings)
    if settings.demo:
        _print_demo_logins(engine)
    app = create_app(settings, engine=engine)
    # With a thousand sockets open, CPython's default thresholds (700, 10, 10) run a full
    # collection every few seconds under load, each a 100–300 ms pause in delivery
    # (measured with bench/conversations.py: p99 ~250 ms). Collecting the young
    # generation less often keeps p99 under 50 ms at 1,000 messages/s.
    gc.set_threshold(20_000, 20, 10)
    bind_host, bind_port = host or settings.host, port or settings.port
    click.echo(f"Kefu {__version__} serving http://{bind_host}:{bind_port}")
    uvicorn.run(
        app,
        host=bind_host,
        port=bind_port,
        log_config=None,
        server_header=False,
        # Chat frames are small: compressing each one for each socket costs more CPU and
        # memory (a deflate context per connection) than the bytes it saves.
        ws_per_message_deflate=False,
    )


@main.command()
@click.option("--to", "revision", default="head", show_default=True, help="Target revision.")
@click.option("--status", is_flag=True, help="Only show the current and latest revision.")
def migrate(revision: str, status: bool) -> None:
    """Bring the database schema up to date (or to a given revision)."""
    from kefu import migrate as migrations

    settings = settings_or_exit()
    configure_logging(level="WARNING", fmt="text")
    engine = engine_or_exit(settings)
    current, head = migrations.current_revision(engine), migrations.head_revision(engine)
    if status:
        click.echo(f"current: {current or '(empty)'}\nlatest:  {head}")
        return
    try:
        migrations.migrate_to(engine, revision)
    except Exception as exc:  # alembic raises several kinds for a bad revision name
        fail(f"cannot migrate to {revision!r}: {exc}", EXIT_REFUSED)
    click.echo(f"database at revision {migrations.current_revision(engine) or '(empty)'}")


@main.command()
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the generator.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing (but print the logins) if a shop exists."
)
def demo(seed: int, if_empty: bool) -> None:
    """Create the demo shop: products, customers, orders, agents, past conversations."""
    from kefu.demo.seed import demo_exists, seed_demo_shop
    from kefu.shops.service import count_shops

    settings = settings_or_exit(demo=True)
    configure_logging(level="WARNING", fmt="text")
    engine = migrated_engine_or_exit(settings)
    factory = uow_factory(engine)
    with factory() as uow:
        exists = demo_exists(uow.session)
        any_shop = count_shops(uow.session) > 0
    if exists or (if_empty and any_shop):
        click.echo("A shop already exists; keeping its data.")
    else:
        summary = seed_demo_shop(factory, seed=seed)
        orders = sum(summary.orders.values())
        click.echo(
            f"Demo shop created: {summary.products} products, {summary.customers} customers, "
            f"{orders} orders, {summary.conversations} conversations, {summary.agents} agents."
        )
    _print_demo_logins(engine)


def _print_demo_logins(engine: Engine) -> None:
    from kefu.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SHOP_SLUG, demo_exists

    with uow_factory(engine)() as uow:
        if not demo_exists(uow.session):
            return
    click.echo(f"\nDemo logins — shop code: {DEMO_SHOP_SLUG}, password for all: {DEMO_PASSWORD}")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.email:<24} {login.role:<11} {login.name} ({login.team})")
    click.echo("")


@main.command("create-shop")
@click.option("--slug", required=True, help="Shop code used at login, e.g. 'mianli'.")
@click.option("--name", required=True, help="Shop name, e.g. '棉里旗舰店'.")
@click.option("--timezone", default=None, help="IANA time zone (default: KEFU_TIMEZONE).")
def create_shop(slug: str, name: str, timezone: str | None) -> None:
    """Create a shop with the default teams."""
    from kefu.shops import service as shops

    settings = settings_or_exit()
    engine = migrated_engine_or_exit(settings)
    with uow_factory(engine)() as uow:
        try:
            shop = shops.create_shop(
                uow, slug=slug, name=name, timezone=timezone or settings.timezone
            )
        except DomainError as exc:
            fail(exc.message, EXIT_REFUSED)
    click.echo(f"shop {shop.slug} created (id {shop.id})")


@main.command("create-agent")
@click.option("--shop", "shop_slug", required=True, help="Shop code.")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["owner", "supervisor", "agent"]), default="agent")
@click.option("--team", "teams", multiple=True, help="Team code (repeatable), e.g. presale.")
@click.password_option(help="Password (asked for when not given).")
def create_agent(
    shop_slug: str, email: str, display_name: str, role: str, teams: tuple[str, ...], password: str
) -> None:
    """Add a member of staff to a shop."""
    from kefu.accounts import service as accounts
    from kefu.accounts.models import Role
    from kefu.shops import service as shops

    settings = settings_or_exit()
    engine = migrated_engine_or_exit(settings)
    with uow_factory(engine)() as uow:
        try:
            shop = shops.get_shop_by_slug(uow.session, slug=shop_slug)
            team_ids = [
                shops.get_team_by_code(uow.session, shop_id=shop.id, code=c).id for c in teams
            ]
            agent = accounts.create_agent(
                uow,
                shop_id=shop.id,
                email=email,
                display_name=display_name,
                password=password,
                role=Role(role),
                team_ids=team_ids,
            )
        except DomainError as exc:
            fail(exc.message, EXIT_REFUSED)
    click.echo(f"agent {agent.email} created in {shop.slug} (id {agent.id}, {role})")


@main.command("create-token")
@click.option("--shop", "shop_slug", required=True, help="Shop code.")
@click.option("--name", required=True, help="What the token is for, e.g. 'order sync'.")
@click.option("--role", type=click.Choice(["owner", "supervisor", "agent"]), default="agent")
def create_token(shop_slug: str, name: str, role: str) -> None:
    """Issue an API token for the shop's own systems (printed once)."""
    from kefu.accounts import auth
    from kefu.accounts.models import Role
    from kefu.shops import service as shops

    settings = settings_or_exit()
    engine = migrated_engine_or_exit(settings)
    with uow_factory(engine)() as uow:
        try:
            shop = shops.get_shop_by_slug(uow.session, slug=shop_slug)
            operator = auth.Principal(
                shop_id=shop.id,
                role=Role.OWNER,
                agent_id=None,
                name="cli",
                via="cli",
                credential_id=0,
            )
            issued = auth.create_api_token(
                uow, shop_id=shop.id, name=name, role=Role(role), created_by=operator
            )
        except DomainError as exc:
            fail(exc.message, EXIT_REFUSED)
    click.echo(issued.raw)


@main.command()
def check() -> None:
    """Check the settings and the database, and say what is wrong."""
    from kefu import migrate as migrations

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    click.echo(f"settings:  ok (database {engine.url.render_as_string(hide_password=True)})")
    click.echo("database:  reachable")
    if not migrations.is_up_to_date(engine):
        fail("schema:    not up to date; run 'kefu migrate'", EXIT_NOT_MIGRATED)
    click.echo(f"schema:    up to date ({migrations.current_revision(engine)})")
    click.echo(
        f"redis:     {'configured' if settings.redis_url else 'not configured (single process)'}"
    )


main.add_command(nlp)
main.add_command(coach)
