"""The `miroir` command."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from config.settings import settings

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    help="Miroir: a real-time mirror of customer and staff experience, step by step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(
    help="The local stack: Apache Kafka (KRaft), Redis, the HTTP intake and the managers' app, no Docker.",
    no_args_is_help=True,
)
app.add_typer(stack_app, name="stack")
from miroir.callbacks_cli import callbacks_app  # noqa: E402
from miroir.intake_cli import intake_app  # noqa: E402
from miroir.journeys_cli import journeys_app  # noqa: E402
from miroir.managers_cli import managers_app  # noqa: E402
from miroir.measure_cli import measure  # noqa: E402
from miroir.privacy_cli import privacy_app  # noqa: E402
from miroir.schemas_cli import show_schemas  # noqa: E402
from miroir.users_cli import users_app  # noqa: E402

app.add_typer(callbacks_app, name="callbacks")
app.add_typer(intake_app, name="intake")
app.add_typer(journeys_app, name="journeys")
app.add_typer(managers_app, name="managers")
app.add_typer(privacy_app, name="privacy")
app.add_typer(users_app, name="users")
app.command("schemas")(show_schemas)
mirror_app = typer.Typer(help="Read the mirror.", no_args_is_help=True)
app.add_typer(mirror_app, name="mirror")
topics_app = typer.Typer(help="The pipeline's Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@stack_app.command("up")
def stack_up() -> None:
    """Start Kafka and Redis, create the topics, then start the intake and the managers' app (idempotent)."""
    from infra.processes import StackError
    from infra.stack import up

    try:
        up(settings, echo=console.print)
    except StackError as error:
        _fail(str(error))


@stack_app.command("fetch")
def stack_fetch() -> None:
    """Resolve the pinned Kafka broker jars from Maven Central (once; cached in the run folder)."""
    from infra.broker import KAFKA_VERSION, ensure_kafka_jars
    from infra.processes import Paths, StackError

    try:
        ensure_kafka_jars(Paths(settings), console.print)
    except StackError as error:
        _fail(str(error))
    console.print(f"kafka: Apache Kafka {KAFKA_VERSION} jars ready")


@stack_app.command("down")
def stack_down() -> None:
    """Stop what `stack up` started (by pid): the managers' app, the intake, Redis, Kafka; nothing else."""
    from infra.stack import down

    down(settings, echo=console.print)


@stack_app.command("status")
def stack_status() -> None:
    """Show each service, its port and whether it answers. Exits 1 if one does not."""
    from infra.stack import status

    services = status(settings)
    table = Table("service", "port", "pid", "state")
    for service in services:
        colour = "green" if service.answering else "red"
        table.add_row(service.name, str(service.port), str(service.pid or "-"), f"[{colour}]{service.state}[/]")
    console.print(table)
    if not all(s.answering for s in services):
        raise typer.Exit(1)


@topics_app.command("create")
def topics_create(
    partitions: int = typer.Option(settings.kafka.topic_partitions, help="Partitions of new topics"),
) -> None:
    """Create the missing topics on MIROIR_KAFKA_BOOTSTRAP_SERVERS (existing ones are kept)."""
    from infra.topics import ensure_topics

    created = ensure_topics(settings, partitions=partitions)
    console.print(f"created: {', '.join(created)}" if created else "all topics already exist")


@topics_app.command("show")
def topics_show(
    cluster: bool = typer.Option(False, "--cluster", help="Also read what the cluster has now"),
) -> None:
    """Each topic with the partitions and retention a cluster should use (privacy's retention:
    MIROIR_PRIVACY_INPUT_DAYS, MIROIR_PRIVACY_DEAD_LETTER_DAYS); `stack up` and `topics create` set them."""
    from infra.topics import described, topic_configs

    configs = topic_configs(settings)
    now = described(settings, list(configs)) if cluster else {}
    table = Table("topic", "partitions", "retention.ms", "retention", *(["on the cluster"] if cluster else []))
    for name, config in configs.items():
        ms = config.get("retention.ms")
        days = f"{int(ms) / 86_400_000:g} days" if ms else "default: names nobody"
        table.add_row(
            name,
            str(settings.kafka.topic_partitions),
            ms or "-",
            days,
            *([now[name]["retention.ms"]] if cluster else []),
        )
    console.print(table)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="crit, error, warn, info or debug"),
    web_port: int = typer.Option(settings.pipeline.web_port, help="Port of the worker's web server"),
) -> None:
    """Start a Faust worker of the pipeline (extra options go to faust's `worker`)."""
    from streams.main import run_worker

    run_worker(["worker", "--loglevel", loglevel, "--web-port", str(web_port), *ctx.args])


@app.command()
def demo(
    events: int = typer.Option(0, help="Events to stream; 0 streams until Ctrl-C"),
    seed: int = typer.Option(7, help="Seed of the synthetic pilot"),
    rate: float = typer.Option(20.0, help="Events per second"),
    invalid_share: float = typer.Option(0.02, help="Share of deliberately invalid inputs"),
    exit_when_done: bool = typer.Option(False, "--exit-when-done", help="Stop once every event is mirrored"),
    summary: Path | None = typer.Option(None, help="With --exit-when-done: write a JSON summary here"),
) -> None:
    """The live pilot demo: stack up, a fresh worker, a synthetic pilot streaming, the mirror live."""
    from infra.processes import StackError
    from tools.demo import DemoOptions, run_demo

    if exit_when_done and events <= 0:
        _fail("--exit-when-done needs --events N")
    options = DemoOptions(events, seed, rate, invalid_share, exit_when_done, summary)
    try:
        run_demo(settings, options, console)
    except (StackError, RuntimeError) as error:
        _fail(str(error))


@app.command()
def simulate(
    events: int = typer.Option(1000, help="Events to produce; 0 for endless"),
    seed: int = typer.Option(7),
    rate: float = typer.Option(50.0, help="Events per second (event time follows the wall clock)"),
    via: str = typer.Option("kafka", help="kafka: produce to the topics; http: POST through the intake"),
) -> None:
    """Produce a synthetic pilot (FR/EN customer responses and staff stories) to the input topics."""
    from tools.demo import DemoOptions, stream_pilot
    from tools.http_sender import IntakeUnavailable, send_pilot

    if via not in ("kafka", "http"):
        _fail("--via must be kafka or http")
    options = DemoOptions(events, seed, rate, 0.0, True, None)
    with Progress(console=console) as progress:
        task = progress.add_task("producing" if via == "kafka" else "posting", total=events or None)
        try:
            send = send_pilot if via == "http" else stream_pilot
            sent = send(settings, options, lambda n: progress.update(task, completed=n))
        except IntakeUnavailable as error:
            _fail(str(error))
    console.print(f"sent {sent} events" + (f" through the intake at {settings.intake.url}" if via == "http" else ""))


@app.command()
def replay(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV or JSONL export"),
    kind: str | None = typer.Option(None, help="survey or staff (a mapping or preset sets it)"),
    mapping_: str | None = typer.Option(
        None, "--mapping", help="A shipped mapping (processors/mappings/NAME.yaml) or a mapping YAML file"
    ),
    preset: str | None = typer.Option(
        None, help="Mapping of a known export: certideal, glassdoor-pros, glassdoor-cons"
    ),
    journey: str | None = typer.Option(None, help="Journey of every row (unless a column gives it)"),
    map_: list[str] = typer.Option([], "--map", help="column=field, or col1+col2=field; repeatable"),
    scale: str | None = typer.Option(None, help="NPS or CSAT, for scores no column qualifies (default CSAT)"),
    site: str | None = typer.Option(None, help="Site of every row (unless a column gives it)"),
    prompt: str | None = typer.Option(None, help="Staff prompt: most_positive or most_frustrating"),
    limit: int = typer.Option(0, help="Stop after this many rows (0: all)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Map and check every row, send nothing"),
) -> None:
    """Stream a CSV or JSONL export into the input topics; bad rows are reported, not fatal."""
    from itertools import islice

    from rich.markup import escape

    from tools.replay import ReplayError, build_mapping, check_columns, read_rows, replay_file

    overrides = {"journey": journey, "scale": scale, "site": site, "prompt": prompt}
    try:
        mapping = build_mapping(kind, mapping_, preset, map_, overrides)
        check_columns(file, mapping)
        rows = read_rows(file)
        with Progress(console=console, transient=dry_run) as progress:
            task = progress.add_task(f"{'checking' if dry_run else 'replaying'} {file.name}", total=None)
            result = replay_file(
                settings,
                islice(rows, limit) if limit else rows,
                mapping,
                lambda: progress.update(task, advance=1),
                dry_run=dry_run,
            )
    except ReplayError as error:
        _fail(escape(str(error)))
    shown = result.bad if dry_run else result.bad[:20]
    for record in result.first:
        console.print_json(data=record, default=str)
    for number, reason in shown:
        err.print(f"row {number}: {escape(reason)}")
    if len(result.bad) > len(shown):
        err.print(f"... and {len(result.bad) - len(shown)} more bad rows (--dry-run lists them all)")
    if not dry_run:
        console.print(f"sent {result.sent} records to {result.topic}; {len(result.bad)} bad rows skipped")
    console.print(result.reconciliation())


@mirror_app.command("show")
def mirror_show(
    journey: str | None = typer.Option(None, help="Only this journey"),
    window: str = typer.Option("live", help="live or long"),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON read-out"),
    language: str = typer.Option("en", help="Labels in en or fr"),
    url: str = typer.Option(f"http://localhost:{settings.pipeline.web_port}", help="The worker's web server"),
) -> None:
    """Show the current mirror of a running worker."""
    from processors.config import pipeline_config
    from tools.readout import WorkerUnavailable, callback_table, fetch, mirror_tables

    try:
        mirror = fetch(url, "/mirror/")
    except WorkerUnavailable as error:
        _fail(str(error))
    states = [s for s in mirror["states"] if journey in (None, s["journey_id"]) and s["window"] == window]
    if as_json:
        console.print_json(
            data={"states": states, "counters": mirror["counters"], "callbacks": mirror.get("callbacks")}
        )
    else:
        console.print(mirror_tables(states, pipeline_config().taxonomy, window, journey, language))
        console.print(callback_table(mirror.get("callbacks", {})))


# bench, chaos, eval (miroir/measure_cli.py) as top-level commands, listed after these.
app.registered_commands += measure.registered_commands


def main() -> None:
    app(prog_name="miroir")


if __name__ == "__main__":
    main()
