"""`leadroute score`: train, list, activate and explain predictive conversion models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.cli.common import DbOption, console, errors, fail, open_store, root

if TYPE_CHECKING:
    from leadroute.services.predictive import (
        History,
        Metrics,
    )

score_app = typer.Typer(
    help="Predictive scoring: train a conversion model on closed leads, list and activate "
    "versions, explain a lead's probability.",
    no_args_is_help=True,
)

ModelOption = Annotated[str, typer.Option("--model", help="model name")]


def _print_history(history: History) -> None:
    line = f"{history.size:,} closed leads from {history.source}, {history.positives:,} converted"
    extra = []
    if history.skipped:
        extra.append(f"{history.skipped:,} without a known outcome skipped")
    if history.rejected:
        extra.append(f"{history.rejected:,} rejected rows")
    console.print(line + (f" ({'; '.join(extra)})" if extra else ""))


def _print_metrics(metrics: Metrics) -> None:
    console.print(
        f"cross-validated AUC [bold]{metrics.auc_mean:.3f}[/] ± {metrics.auc_std:.3f} "
        f"over {metrics.folds} folds (0.5 is chance, 1.0 ranks every converted lead first)"
    )
    console.print(
        f"Brier score {metrics.brier:.3f} (lower is better; always guessing the base rate: "
        f"{metrics.brier_base:.3f}); calibration error {metrics.calibration_error:.3f}"
    )
    console.print(
        f"base rate {metrics.base_rate:.1%} ({metrics.positives:,} of {metrics.rows:,} converted)"
    )
    table = Table(title="Calibration on held-out leads (deciles of predicted probability)")
    for column in ("decile", "leads", "predicted", "observed", "gap"):
        table.add_column(column, justify="right")
    for i, b in enumerate(metrics.bins, start=1):
        table.add_row(
            str(i),
            f"{b.count:,}",
            f"{b.predicted:.1%}",
            f"{b.observed:.1%}",
            f"{b.observed - b.predicted:+.1%}",
        )
    console.print(table)


@score_app.command("train")
def score_train(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="CSV/JSONL of closed leads (default: the store's leads)"),
    ] = None,
    target: Annotated[
        str, typer.Option(help="outcome column: converted/won/yes/1 vs lost/disqualified/no/0")
    ] = "converted",
    name: Annotated[str, typer.Option(help="model name")] = "conversion",
    folds: Annotated[int, typer.Option(help="cross-validation folds")] = 5,
    db: DbOption = None,
) -> None:
    """Train a model on closed leads, report held-out AUC and calibration, store a version."""
    from leadroute.adapters.registry import model_versions
    from leadroute.services.predictive import (
        TrainingUnavailable,
        context_for,
        history_from_file,
        history_from_store,
        train_and_save,
    )

    if file is not None and not file.exists():
        raise fail(f"{file}: no such file")
    store = open_store(db)
    with errors.status("reading closed leads…"):
        if file is not None:
            history = history_from_file(
                file,
                target,
                context=context_for(store),
                org=store.load_org(),
                limits=root().lead_limits(),
            )
        else:
            history = history_from_store(store)
    _print_history(history)
    try:
        with errors.status(f"training with {folds}-fold cross-validation…"):
            training, version = train_and_save(
                model_versions(store),
                history,
                name=name,
                folds=folds,
                target=target if file else "status",
            )
    except (ValueError, TrainingUnavailable) as exc:
        raise fail(str(exc)) from None
    _print_metrics(training.metrics)
    console.print(
        f"stored model [bold]{name}[/] version {version} ({training.metrics.features} features), "
        "now active"
    )


@score_app.command("models")
def score_models(db: DbOption = None) -> None:
    """Every stored model version with its held-out metrics; which one is active."""
    from leadroute.adapters.store.model_store import ModelStore

    stored = ModelStore(open_store(db)).list()
    if not stored:
        console.print("no models yet: train one with `leadroute score train`")
        return
    table = Table(title="Predictive models")
    for column in ("name", "version", "created", "rows", "AUC", "Brier", "base rate", "active"):
        table.add_column(column, justify="left" if column in ("name", "created") else "right")
    for m in stored:
        metrics = m.metrics
        auc = f"{metrics.get('auc_mean', 0):.3f} ± {metrics.get('auc_std', 0):.3f}"
        table.add_row(
            m.name,
            str(m.version),
            f"{m.created_at:%Y-%m-%d %H:%M}",
            f"{m.rows:,}",
            auc,
            f"{metrics.get('brier', 0):.3f}",
            f"{metrics.get('base_rate', 0):.1%}",
            "[green]active[/]" if m.active else "",
        )
    console.print(table)


@score_app.command("activate")
def score_activate(
    name: Annotated[str, typer.Argument(help="model name")],
    version: Annotated[int, typer.Argument(help="version to make active")],
    db: DbOption = None,
) -> None:
    """Make a stored version of a model the active one (routing uses the active version)."""
    from leadroute.adapters.store.model_store import ModelStore

    if not ModelStore(open_store(db)).activate(name, version):
        raise fail(f"no version {version} of model '{name}'")
    console.print(f"model {name} version {version} is now active")


@score_app.command("explain")
def score_explain(
    lead: Annotated[str, typer.Argument(help="lead id")],
    model: ModelOption = "conversion",
    top: Annotated[int, typer.Option(help="how many lead fields to list")] = 5,
    db: DbOption = None,
) -> None:
    """A lead's conversion probability and the lead fields that move it most."""
    from leadroute.adapters.registry import model_versions
    from leadroute.services.predictive import explain_lead

    store = open_store(db)
    try:
        explanation = explain_lead(store, lead, models=model_versions(store), model=model, top=top)
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(
        f"lead {lead}: probability [bold]{explanation.probability:.1%}[/] "
        f"(model {explanation.model} v{explanation.version}; "
        f"{explanation.base_rate:.1%} of its training leads converted)"
    )
    console.print(
        "what moves it, as effects on the log-odds against a lead with average features "
        f"(probability {explanation.baseline:.1%}):"
    )
    table = Table()
    table.add_column("effect", justify="right")
    table.add_column("field")
    table.add_column("this lead")
    for c in explanation.contributions:
        style = "green" if c.effect > 0 else "red"
        table.add_row(f"[{style}]{c.effect:+.2f}[/]", c.feature, c.label)
    console.print(table)


@score_app.command("synth")
def score_synth(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    rows: Annotated[int, typer.Option(help="number of closed leads")] = 3000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same file)")] = 7,
) -> None:
    """Write a synthetic history of closed leads with a known signal (see docs/predictive.md)."""
    from leadroute.sample.history import generate_history, write_history

    if rows < 1:
        raise fail("--rows must be at least 1")
    history = generate_history(rows, seed)
    written = write_history(out, history)
    converted = sum(1 for r in history if r["converted"] == "yes")
    console.print(f"{written:,} closed leads ({converted:,} converted) written to {out}")
