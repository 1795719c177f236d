"""`miroir bench`, `miroir chaos`, `miroir eval`: the commands that measure Miroir."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from config.settings import settings

console = Console()
err = Console(stderr=True)
# Registered on the root command (miroir/cli.py): `miroir bench`, not `miroir measure bench`.
measure = typer.Typer()


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@measure.command()
def bench(
    events: int = typer.Option(100_000, help="Events for the throughput measures"),
    rates: str = typer.Option("200,1000", help="Offered rates for the latency measures (events/s)"),
    rate_seconds: float = typer.Option(20.0, help="How long each offered rate runs"),
    memory_steps: str = typer.Option("100000,500000,1000000", help="RSS checkpoints; empty to skip"),
    scale_out: bool = typer.Option(True, help="Also measure two workers in one group"),
    intake_rate: float = typer.Option(
        500.0, help="Single POSTs/s offered to the intake (batched POSTs carry the same records/s); 0 to skip"
    ),
    intake_seconds: float = typer.Option(60.0, help="How long each intake load runs"),
    intake_batch: int = typer.Option(50, help="Records per batched POST"),
    french_reviews: Path = typer.Option(
        Path("../shared/data/fr_ecommerce_reviews_certideal.csv"), help="French reviews for the scorer measure"
    ),
    notify_rates: str = typer.Option(
        "200,1000",
        help="Responses/s offered to a notifying worker (a quarter ask for a callback: an e-mail per manager "
        "and a webhook each); empty to skip",
    ),
    notify_seconds: float = typer.Option(30.0, help="How long each notification load runs"),
    output: Path = typer.Option(Path("bench/results"), help="Where the JSON results go"),
) -> None:
    """Benchmarks on the real local stack, each against a baseline measured in the same run."""
    from tools.bench import BenchOptions, report, run_bench

    options = BenchOptions(
        events=events,
        rates=tuple(int(r) for r in rates.split(",") if r),
        rate_seconds=rate_seconds,
        memory_steps=tuple(int(s) for s in memory_steps.split(",") if s),
        scale_out=scale_out,
        intake_rate=intake_rate,
        intake_seconds=intake_seconds,
        intake_batch=intake_batch,
        notify_rates=tuple(int(r) for r in notify_rates.split(",") if r),
        notify_seconds=notify_seconds,
        french_reviews=french_reviews,
        output=output,
    )
    report(run_bench(settings, options, console), console, output)


@measure.command()
def chaos(
    events: int = typer.Option(50_000, help="Events in the seeded replay"),
    kills: int = typer.Option(5, help="SIGKILLs of the worker in the crash scenario"),
    seed: int = typer.Option(11, help="Seed of the replay and of the kill points"),
    scenarios: str = typer.Option(
        "crash,two-workers,scale-out,broker-restart,redis-outage,intake-kill,intake-broker-down,"
        "notify-smtp-down,notify-webhook-500,notify-kill",
        help="Comma-separated: which scenarios to run",
    ),
    outage: float = typer.Option(10.0, help="Seconds the broker or Redis stays down"),
    intake_records: int = typer.Option(5_000, help="Records POSTed in each intake scenario"),
    notify_callbacks: int = typer.Option(900, help="Callbacks fed in each notify scenario"),
    notify_outage: float = typer.Option(15.0, help="Seconds the SMTP server is down, or the webhook answers 500"),
    output: Path = typer.Option(Path("bench/results"), help="Where the JSON results go"),
) -> None:
    """Fault scenarios on the real stack (SIGKILLed workers, a lost worker of two, a broker restart,
    a Redis outage), each against an uninterrupted run of the same replay, the intake's (SIGKILLed
    under a retrying sender, the broker stopped under it) and the notifier's (SMTP server down, webhook
    answering 500, worker SIGKILLed mid-send); exits 1 if anything is lost, duplicated or
    unreconciled."""
    from tools.chaos import ChaosError, ChaosOptions, report, run_chaos

    options = ChaosOptions(
        events=events,
        kills=kills,
        seed=seed,
        scenarios=tuple(s for s in scenarios.split(",") if s),
        outage=outage,
        intake_records=intake_records,
        notify_callbacks=notify_callbacks,
        notify_outage=notify_outage,
    )
    try:
        outcomes = run_chaos(settings, options, console)
    except ChaosError as error:
        _fail(str(error))
    report(outcomes, options, console, output)
    if not all(o.passed for o in outcomes):
        raise typer.Exit(1)


@measure.command("eval")
def evaluate(
    file: Path | None = typer.Argument(
        None, help="A rated data set: CSV (, ; or tab) or JSONL; none: the standard suite (tools/eval_sets.yaml)"
    ),
    text: str | None = typer.Option(None, help="Text column; title+body joins several with '. '"),
    rating: str | None = typer.Option(None, help="Rating column (JSONL: a.b reaches into nested objects)"),
    scale: int | None = typer.Option(
        None, help="5: stars 1-2 / 3 / 4-5; 10: 1-6 / 7-8 / 9-10; 2: binary labels; 3: three classes"
    ),
    language: str | None = typer.Option(None, help="fr or en; default: detected per row"),
    journey: str | None = typer.Option(
        None, help="A journey id, or a YAML journey file or folder: the share of rows tagged with its steps"
    ),
    limit: int | None = typer.Option(None, min=1, help="A random sample of this many rows (the suite: of each file)"),
    seed: int = typer.Option(0, help="The sample's seed"),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures here as JSON"),
    data: Path | None = typer.Option(
        None, help="The suite's data folder (default: ../shared/data beside the repository)"
    ),
    readme: bool = typer.Option(
        False, "--readme", help="The suite: rewrite README.md between <!-- eval:begin --> and <!-- eval:end -->"
    ),
) -> None:
    """How right the analysis is on a rated data set (or the standard suite), beside plain TextBlob / TextBlob-fr
    in the same run: binary and 3-class accuracy, macro-F1, confusion matrices, verbatims/s, tagging share."""
    import json

    from tools.eval_suite import DEFAULT_DATA, readme_markers, run_suite, suite_markdown, suite_tables, write_readme
    from tools.evaluate import EvalError, EvalSet, evaluate_file, file_tables

    try:
        if file is not None:
            if text is None or rating is None or scale is None:
                return _fail("a FILE needs --text, --rating and --scale")  # _fail exits
            if readme or data is not None:
                _fail("--readme and --data are for the suite (no FILE)")
            item = EvalSet(file, text, rating, scale, language, journey, limit, seed)
            result = evaluate_file(item)
            title = (
                f"miroir eval {file}: scale {scale}, language {language or 'detected per row'}, "
                f"journey {journey or '-'}" + (f", a sample of {limit:,} rows (seed {seed})" if limit else "")
            )
            console.print(file_tables(result, title))
            figures = result.as_json()
        else:
            if any(option is not None for option in (text, rating, scale, language, journey)):
                _fail("--text, --rating, --scale, --language and --journey need a FILE; without one the suite runs")
            if readme:
                readme_markers()  # before the long run: the markers must be there
            suite = run_suite(data or DEFAULT_DATA, limit, seed, lambda line: console.print(f"eval: {line}"))
            # Eight columns: a pipe or a log gets 160 columns, not 80; a terminal its own width.
            (console if console.is_terminal else Console(width=max(console.width, 160))).print(suite_tables(suite))
            figures = suite.as_json()
            if readme:
                write_readme(suite_markdown(suite))
                console.print("eval: README.md rewritten between its eval markers")
    except EvalError as error:
        _fail(str(error))
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2))
        console.print(f"eval: figures written to {json_out}")
