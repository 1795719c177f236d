"""The `miroir` command."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from miroir.settings import settings

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    help="Miroir: a real-time mirror of customer and staff experience, step by step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(
    help="The local stack: Apache Kafka (KRaft) and Redis, no Docker.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")
topics_app = typer.Typer(help="The pipeline's Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@stack_app.command("up")
def stack_up() -> None:
    """Start Kafka and Redis (idempotent), then create the topics."""
    from infra.stack import StackError, up

    try:
        up(settings, echo=console.print)
    except StackError as error:
        _fail(str(error))


@stack_app.command("fetch")
def stack_fetch() -> None:
    """Resolve the pinned Kafka broker jars from Maven Central (once; cached in the run folder)."""
    from infra.stack import KAFKA_VERSION, Paths, StackError, ensure_kafka_jars

    try:
        ensure_kafka_jars(Paths(settings), console.print)
    except StackError as error:
        _fail(str(error))
    console.print(f"kafka: Apache Kafka {KAFKA_VERSION} jars ready")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the Kafka and Redis that `stack up` started (by pid), nothing else."""
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
        table.add_row(
            service.name, str(service.port), str(service.pid or "-"), f"[{colour}]{service.state}[/]"
        )
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


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="crit, error, warn, info or debug"),
    web_port: int = typer.Option(settings.pipeline.web_port, help="Port of the worker's web server"),
) -> None:
    """Start a Faust worker of the pipeline (extra options go to faust's `worker`)."""
    from streams.main import run_worker

    run_worker(["worker", "--loglevel", loglevel, "--web-port", str(web_port), *ctx.args])


def main() -> None:
    app(prog_name="miroir")


if __name__ == "__main__":
    main()
