"""The `gcx` command: one entry point for every platform operation (`gcx --help`)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from gcx import clock, database
from gcx.files import keep_private

app = typer.Typer(no_args_is_help=True, help="GCX data platform.")


@app.callback()
def platform() -> None:
    """GCX data platform."""
    keep_private()  # every file under GCX_HOME 0600, every folder 0700, whatever the shell's umask


db_app = typer.Typer(no_args_is_help=True, help="The platform's PostgreSQL server.")
import_app = typer.Typer(no_args_is_help=True, help="Load your own data into the exchange source.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create (shown once), list, revoke.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server (if not running) and create the platform's databases."""
    database.ensure_databases()
    typer.echo(f"PostgreSQL is up: {database.server_url()}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    stopped = database.stop_embedded()
    typer.echo("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the server is running, and where."""
    s = database.status()
    kind = "embedded" if s.embedded else "external"
    if s.running:
        pid = f", pid {s.pid}" if s.pid else ""
        typer.echo(f"{kind} PostgreSQL running{pid}: {s.url}")
    else:
        typer.echo(f"{kind} PostgreSQL not running" + (f" (data in {s.data_dir})" if s.data_dir else ""))
        raise typer.Exit(code=1)


@db_app.command("backup")
def db_backup() -> None:
    """Take a base backup and archive WAL from then on (GCX_BACKUP, default <GCX_HOME>/backup)."""
    from gcx import backup
    from gcx.settings import get_settings

    try:
        taken = backup.backup(get_settings())
    except backup.BackupError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(
        f"Base backup {taken.path} (complete {taken.completed_at.isoformat()}); WAL archived from now on."
    )


@db_app.command("restore")
def db_restore(
    to: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z"], help="The moment to return to, e.g. 2026-12-07T10:15:00+00:00."
        ),
    ],
) -> None:
    """Return the server to a moment: the newest base backup complete by then plus the archived WAL
    up to it. The data folder before the restore is kept beside it (pg.before-restore-<time>)."""
    from gcx import backup
    from gcx.settings import get_settings

    try:
        used = backup.restore(get_settings(), to)
    except backup.BackupError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"Restored to {to.isoformat()} from {used.path} and the archived WAL.")


@db_app.command("url")
def db_url(
    name: Annotated[
        str, typer.Option("--database", "-d", help="exchange, warehouse, dagster or mlflow")
    ] = "warehouse",
) -> None:
    """Print a connection URL that psql and psycopg accept, e.g. psql "$(gcx db url -d exchange)"."""
    if name not in database.DATABASES:
        raise typer.BadParameter(f"expected one of {', '.join(database.DATABASES)}", param_hint="--database")
    database.ensure_databases()
    typer.echo(database.database_url(name))


@import_app.command("trades")
def import_trades(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file in the trade file schema (see README)")],
    venue: Annotated[str, typer.Option(help="Venue that new symbols are listed under")] = "external",
) -> None:
    """Load a file of trades into the exchange source, all or nothing; re-importing adds nothing."""
    from gcx.importer import ImportRefused
    from gcx.importer import import_trades as run_import

    try:
        result = run_import(file, venue=venue)
    except ImportRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(code=1) from refused
    typer.echo(
        f"{file.name}: {result.rows_in_file} rows, {result.trades_added} trades added, "
        f"{result.trades_already_present} already present"
    )
    if result.instruments_added:
        typer.echo(f"new {venue} instruments: {', '.join(result.instruments_added)}")
    if result.timestamps_truncated_to_us:
        typer.echo(
            f"note: {result.timestamps_truncated_to_us} timestamps had nanoseconds; stored to the microsecond"
        )


@app.command("simulate")
def simulate(
    days: Annotated[
        int,
        typer.Option(
            help="Trading days (sessions) to simulate; weekends and holidays in between come with them.",
            min=1,
        ),
    ] = 90,
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            show_default="the DAYS-th trading day before today, so the history ends yesterday and --live continues it",
            help="First simulated day (2023-2028).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (batch default 7, live default random).")
    ] = None,
    scale: Annotated[
        float, typer.Option(help="1 = real GCX size (tens of trades a day), 1000 = stress.")
    ] = 1.0,
    bad_rate: Annotated[float, typer.Option(help="Share of records given a fault, logged in truth/.")] = 0.0,
    live: Annotated[
        bool, typer.Option("--live", help="Trade in real time after the history instead.")
    ] = False,
    trades_per_second: Annotated[float, typer.Option(help="Live: average trade rate.")] = 1.0,
    duration: Annotated[float | None, typer.Option(help="Live: stop after this many seconds.")] = None,
) -> None:
    """Write a fresh simulated GCX world, or (--live) keep trading in real time.

    Batch mode REPLACES the previous simulated world: it truncates every exchange table and clears <GCX_HOME>/landing and <GCX_HOME>/truth before writing.

    Live mode appends orders, trades, settlements and feed messages (NOTIFY gcx_feed) and never truncates; Ctrl-C stops it.
    """
    from gcx import simulator
    from gcx.simulator.trading_calendar import sessions_before, sessions_from

    if live:
        typer.echo("Live trading (appending to the exchange database, publishing on gcx_feed); Ctrl-C stops.")
        summary = simulator.run_live(trades_per_second, duration, seed, bad_rate)
        typer.echo(
            f"Stopped after {summary.elapsed_s:.1f} s: {summary.trades} trades, {summary.orders} orders, "
            f"{summary.messages} feed messages ({summary.bad_messages} malformed)"
        )
        return
    if start:
        first, last = sessions_from(start.date(), days)
    else:
        first, last = sessions_before(clock.today(), days)
    typer.echo(
        f"{days} trading days: {first} .. {last} ({(last - first).days + 1} calendar days). "
        "Replacing the simulated world: truncating exchange tables, clearing landing/ and truth/ ..."
    )
    try:
        summary = simulator.simulate(
            first, (last - first).days + 1, 7 if seed is None else seed, scale, bad_rate
        )
    except ValueError as refused:
        raise typer.BadParameter(str(refused)) from None
    typer.echo("\n".join(summary.lines()))


@app.command("materialize")
def materialize(
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (default: the first with data).")
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day, inclusive (default: the last with data)."),
    ] = None,
    job: Annotated[
        str, typer.Option(help="The Dagster job to run (default: ingestion and the warehouse build).")
    ] = "end_of_day_job",
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="Print Dagster's event log as it happens (else it goes to a file)."),
    ] = False,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild every dbt model whole (else the daily marts replace only the days the run touched).",
        ),
    ] = False,
) -> None:
    """Materialize every asset for every day that has source data, checks included (one Dagster run).
    Shows the run's progress; Dagster's event log goes to <GCX_HOME>/logs/."""
    from gcx.settings import get_settings
    from gcx_pipelines.launch import materialize as run

    ok = run(
        get_settings(),
        start.date() if start else None,
        end.date() if end else None,
        job_name=job,
        verbose=verbose,
        full_refresh=full_refresh,
    )
    raise typer.Exit(code=0 if ok else 1)


@app.command("ui")
def ui(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the Dagster UI, with the daemon that runs schedules and sensors (Ctrl-C stops)."""
    from gcx.settings import get_settings
    from gcx_pipelines.launch import serve_ui

    raise typer.Exit(code=serve_ui(get_settings(), host, port))


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes; realtime fan-out and requests spread over them.")
    ] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="TLS certificate (PEM): serve https.")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Its private key (PEM).")
    ] = None,
) -> None:
    """Serve the market data API (docs at /docs) until interrupted; over TLS, with HSTS, when given a
    certificate and its key."""
    import uvicorn

    from api.limits import MAX_WS_MESSAGE_BYTES

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise typer.BadParameter("give both --ssl-certfile and --ssl-keyfile, or neither")
    database.ensure_databases()
    uvicorn.run(
        "api.main:create_served_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        ws_max_size=MAX_WS_MESSAGE_BYTES,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


@contextmanager
def api_tables() -> Iterator[psycopg.Connection]:
    """The warehouse, with the API's tables, on a server that is up (started if need be)."""

    database.ensure_databases()
    with database.connect("warehouse") as conn:
        yield conn


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    tier: Annotated[str, typer.Option(help="free, member or pro")] = "free",
    role: Annotated[str, typer.Option(help="quant, analyst, compliance, executive or admin")] = "quant",
) -> None:
    """Create an API key and print it: it is shown this once and stored only as a hash."""
    from gcx.access import keys

    with api_tables() as conn:
        try:
            key = keys.create_key(conn, name, tier, role)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, tier, role, created and revoked (never the secret)."""
    from gcx.access import keys

    with api_tables() as conn:
        for key in keys.list_keys(conn):
            revoked = f" revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
            typer.echo(
                f"{key.key_id}  {key.tier:6}  {key.role:10}  {key.name}  created {key.created_at:%Y-%m-%d %H:%M}{revoked}"
            )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part after gcx_).")]) -> None:
    """Revoke a key at once; requests with it get 401 revoked_key."""
    from gcx.access import keys

    with api_tables() as conn:
        if not keys.revoke_key(conn, key_id):
            typer.echo(f"no active key {key_id}", err=True)
            raise typer.Exit(code=1)
    typer.echo(f"revoked {key_id}")


@app.command("up")
def up(
    host: Annotated[str, typer.Option(help="Interface the API and the Dagster UI listen on.")] = "127.0.0.1",
    api_port: Annotated[int, typer.Option(help="Port of the API and dashboards.")] = 8000,
    ui_port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    trades_per_second: Annotated[float, typer.Option(help="Average rate of the live feed.")] = 1.0,
    demo_keys: Annotated[
        bool, typer.Option("--demo-keys", help="Create and print a key per tier (and the dashboard roles).")
    ] = False,
) -> None:
    """Run the live feed, the feed consumer, the API and the Dagster UI together (Ctrl-C stops all)."""
    from gcx.services import create_demo_keys, platform_services, run_services
    from gcx.settings import get_settings

    settings = get_settings()
    database.ensure_databases(settings)
    if demo_keys:
        typer.echo(
            "Demo API keys (shown once; `Authorization: Bearer <key>`, or the dashboards' login form):"
        )
        for tier, role, key in create_demo_keys(settings):
            typer.echo(f"  {tier:6} {role:10} {key}")
    raise typer.Exit(
        code=run_services(platform_services(settings, host, api_port, ui_port, trades_per_second))
    )


@db_app.command("bi-role")
def db_bi_role(
    role: Annotated[str, typer.Option("--role", help="Name of the read-only role.")] = "gcx_bi",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="GCX_BI_PASSWORD", help="Password to set (default: a new random one, printed once)."
        ),
    ] = None,
    keep_password: Annotated[
        bool, typer.Option("--keep-password", help="An existing role keeps its password (re-grant only).")
    ] = False,
) -> None:
    """Create (or update) the read-only role a BI tool connects as: it reads the marts schema only
    (masked PII), tables dbt rebuilds later included. See docs/bi.md."""
    from gcx import bi

    database.ensure_databases()
    with database.connect("warehouse") as conn:
        try:
            new_password = bi.ensure_bi_role(conn, role, password, keep_password)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(f"role {role}: reads schema marts only (read-only sessions)")
    if new_password is not None and password is None:
        typer.echo("password (shown this once; set another with --password or GCX_BI_PASSWORD):")
        typer.echo(new_password)
    typer.echo(f"connection URL: {bi.bi_connection_url(role, new_password if password is None else None)}")


@app.command("feed")
def feed(
    catch_up: Annotated[
        bool,
        typer.Option(
            "--catch-up", help="Process what the feed holds now, then exit (default: run until Ctrl-C)."
        ),
    ] = False,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Forget the hot tables and the checkpoint first, and start from the feed's first message.",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Most messages per transaction.", min=1)] = 5_000,
) -> None:
    """Consume the live feed into the hot tables (validated like ingestion; bad messages quarantined)."""
    import logging
    import signal
    import threading

    from gcx.live_feed.consumer import run_consumer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    summary = run_consumer(stop=stop, catch_up=catch_up, reset=reset, batch_size=batch_size)
    typer.echo(
        f"feed: {summary.messages} messages in {summary.batches} batches: "
        f"{summary.trades} trades stored, {summary.quarantined} quarantined"
    )


audit_app = typer.Typer(no_args_is_help=True, help="The audit log of every data access (api.audit_log).")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check that no audit row was changed, deleted or slipped in since it was written: recompute the
    hash chain, check the anchors of earlier runs, then anchor the chain's end (exit 1 on a problem)."""
    from gcx.governance import audit
    from gcx.settings import get_settings

    settings = get_settings()
    database.ensure_databases()
    with database.connect("warehouse", settings=settings) as conn:
        result = audit.verify(conn, audit.anchors_file(settings))
    for problem in result.problems:
        typer.echo(f"problem: {problem}", err=True)
    if not result.ok:
        typer.echo(f"audit log: {result.problem_count} problem(s) in {result.rows} rows", err=True)
        raise typer.Exit(code=1)
    typer.echo(
        f"audit log: {result.rows} rows chained, none changed; end of chain seq {result.head_seq}"
        f" sha256 {result.head_sha256.hex()} anchored in {audit.anchors_file(settings)}"
    )


privacy_app = typer.Typer(no_args_is_help=True, help="Personal data of platform users (docs/governance.md).")
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("erase")
def privacy_erase(
    user: Annotated[str, typer.Option("--user", help="The platform user's id, e.g. U0000001.")],
) -> None:
    """Erase a platform user's personal data (e-mail, name, phone) from the landing files, the lake,
    the warehouse and the exports, keeping their rows; the erasure is recorded in api.audit_log."""
    from gcx.governance.privacy import UnknownUser, erase_user
    from gcx.settings import get_settings

    try:
        erasure = erase_user(user, get_settings())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--user") from error
    except UnknownUser as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    for place, count in erasure.counts.items():
        typer.echo(f"{place:40} {count:>8}")
    typer.echo(f"erased user {user}: {erasure.total} records redacted or removed; recorded in api.audit_log")
