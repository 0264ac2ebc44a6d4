"""The ML models on a world never seen in development: held-out figures, training time, throughput.

1. Evaluation (the issue's "evaluation that means something"): a GCX world simulated with seed
   `EVALUATION_SEED` (20261121), a seed used nowhere in development (development used seed 11 at
   scale 3, the tests seed 29 and hand-made markets), at scale 3 over 150 calendar days, taken
   through the real pipeline (`gcx materialize`: ingestion, dbt marts). Features are computed from the marts,
   labels from the simulator's truth; the last 30 % of days are held out; both models train on the
   days before (search budget `budget_s`) and are scored on the held-out days: per pattern the
   combined detector (rules + learned model) against the rules alone (precision, recall, PR-AUC),
   precision at the top 5 rows per day with an episode, and the member-risk probability's Brier
   score, log loss, ROC-AUC and PR-AUC against the base rate, Brier skill score, expected
   calibration error and a reliability table. Seed 20260917, the first evaluation seed, is no
   longer unseen for member risk: its no-skill result led to the member-status rule (only members
   active at the end of a day are scored for it). Run it with `--seed 20260917` for comparison.
2. Speed: feature computation (rows/s), training wall time, and scoring throughput at stress
   scale: the held-out feature rows repeated to `stress_rows` rows, scored by
   `SurveillanceModel.score` and `MemberRiskModel.probability` (rows/s), and `detect_alerts`
   end to end on the held-out days.
3. Patterns with no episode in the held-out days (pump and dump, on some seeds) are evaluated on an
   earlier window (`EARLIER_WINDOW`) by a model trained only on the days before it.

`measure(data, episodes)` computes everything from loaded marts, so the same code can be tried on a
development world. The machine's load average is recorded: CPU time is shared, and training and
throughput figures scale with it.

The world is built once in <tmp>/gcx-bench-ml-seed<seed>-scale<scale>-days<days> and reused by
later runs (delete it to rebuild; building takes a few minutes).

    python -m bench ml_models                    # seed 20261121
    python -m bench ml_models --seed 20260917    # the first evaluation seed (looked at)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gcx import clock, database
from gcx.settings import Settings

if TYPE_CHECKING:
    from ml.features import MarketData
    from ml.models import MemberRiskModel
    from ml.train import TimeSplit

EVALUATION_SEED = 20261121
"""Never used in development. 20260917 was the evaluation seed before; its member-risk figures
were looked at to find the suspended-member fault, so it is no longer unseen for member risk."""
START = date(2025, 4, 7)
PATTERNS = ("wash_trade", "circular_trading", "spoofing", "marking_the_close", "pump_and_dump")


def _built_marker(settings: Settings) -> Path:
    return settings.home / "bench-world-built"


def _built(settings: Settings) -> bool:
    """True only after a build ran to the end: an interrupted build leaves some marts but no marker."""
    return _built_marker(settings).exists() and settings.pgdata_dir.exists()


def build_world(seed: int, days: int, scale: int) -> Settings:
    from gcx.simulator import simulate
    from gcx_pipelines.launch import materialize

    home = Path(tempfile.gettempdir()) / f"gcx-bench-ml-seed{seed}-scale{scale}-days{days}"
    settings = Settings(home=home, database_url=None)
    if _built(settings):
        print(f"reusing the world in {home}", flush=True)
        return settings
    if home.exists():
        print(f"removing the incomplete world in {home}", flush=True)
        shutil.rmtree(home)
    print(f"simulating {days} days at scale {scale}, seed {seed}, into {home} ...", flush=True)
    simulate(START, days, seed=seed, scale=scale, settings=settings)
    if not materialize(settings):
        raise RuntimeError("gcx materialize failed on the evaluation world")
    _built_marker(settings).write_text(f"built {clock.now().isoformat()}\n")
    return settings


LOOKED_AT = {
    20260917: "no, for member risk: its figures were looked at to find the suspended-member fault",
    11: "no: the development seed",
}
"""Seeds whose figures are not from an unseen world, and why."""

EARLIER_WINDOW = (0.4, 0.7)
"""A second evaluation window (fractions of the days) for patterns with no episode in the held-out
last 30 %: trained on the days before it, scored on it."""


def earlier_window(
    features: pd.DataFrame, labels: pd.Series, split: TimeSplit, patterns: list[str], budget_s: float
) -> dict[str, object]:
    """Per-pattern figures on an earlier window for `patterns` the held-out days do not contain,
    from a model trained only on the days before that window (still a time split)."""
    from ml.evaluate import evaluate_surveillance
    from ml.train import train_surveillance

    days = sorted(pd.unique(features.activity_date))
    start, end = (days[int(len(days) * fraction)] for fraction in EARLIER_WINDOW)
    end = min(end, split.held_out_from)
    train = features.activity_date < start
    window = (features.activity_date >= start) & (features.activity_date < end)
    out: dict[str, object] = {
        "earlier window (for patterns absent from the held-out days)": f"{start} .. {end}"
    }
    if not any((labels[window] == p).any() for p in patterns):
        out["earlier window"] = f"no episode of {', '.join(patterns)} in it either: not evaluated"
        return out
    model, _ = train_surveillance(features[train], labels[train], budget_s=budget_s)
    metrics = evaluate_surveillance(model, features[window], labels[window])
    for pattern in patterns:
        out[f"earlier window: labelled rows {pattern} (train / window)"] = (
            f"{int((labels[train] == pattern).sum())} / {int((labels[window] == pattern).sum())}"
        )
        for metric in ("precision", "recall", "pr_auc"):
            out[f"earlier window: {pattern} {metric} (model+rules / rules only)"] = (
                f"{metrics[f'{pattern}_{metric}']:.2f} / {metrics[f'rules_{pattern}_{metric}']:.2f}"
            )
    return out


def main(
    seed: int = EVALUATION_SEED,
    days: int = 150,
    scale: int = 3,
    budget_s: int = 60,
    stress_rows: int = 1_000_000,
) -> dict[str, object]:
    from ml.features import load_market_data
    from ml.labels import read_episodes

    settings = build_world(seed, days, scale)
    figures: dict[str, object] = {"seed": seed, "scale": scale, "calendar days": days}
    figures["seed unseen?"] = LOOKED_AT.get(seed, "yes: never used in development")
    figures["load average at start (1 min)"] = os.getloadavg()[0]
    try:
        with database.connect("warehouse", settings=settings) as conn:
            began = time.perf_counter()
            data = load_market_data(conn)
            figures["load marts s"] = time.perf_counter() - began
    finally:
        database.stop_embedded(settings)
    figures.update(measure(data, read_episodes(settings.truth_dir), budget_s, stress_rows))
    figures["load average at end (1 min)"] = os.getloadavg()[0]
    for key, value in figures.items():
        print(f"{key}: {value}")
    return figures


def measure(data: MarketData, episodes: list[dict], budget_s: float, stress_rows: int) -> dict[str, object]:
    """Every figure but the loading: features, labels, training, held-out metrics, throughput."""
    from ml.evaluate import evaluate_surveillance
    from ml.features import surveillance_features
    from ml.labels import surveillance_labels
    from ml.models import LoadedModel
    from ml.predict import detect_alerts
    from ml.train import TimeSplit, train_surveillance

    figures: dict[str, object] = {"trades": len(data.trades)}

    began = time.perf_counter()
    features = surveillance_features(data)
    seconds = time.perf_counter() - began
    figures["surveillance feature rows"] = len(features)
    figures["surveillance features s"] = seconds
    figures["surveillance features trades/s"] = len(data.trades) / seconds
    labels = surveillance_labels(features, episodes)
    figures["episodes"] = len(episodes)

    split = TimeSplit.of(features.activity_date)
    train, held_out = split.train(features.activity_date), split.held_out(features.activity_date)
    figures["held out from"] = split.held_out_from.isoformat()
    for pattern in PATTERNS:
        figures[f"labelled rows {pattern} (train / held out)"] = (
            f"{int((labels[train] == pattern).sum())} / {int((labels[held_out] == pattern).sum())}"
        )
    began = time.perf_counter()
    model, trials = train_surveillance(features[train], labels[train], budget_s=budget_s)
    figures["surveillance training s (search + refit)"] = time.perf_counter() - began
    figures["surveillance search trials"] = len(trials)
    metrics = evaluate_surveillance(model, features[held_out], labels[held_out])
    for pattern in PATTERNS:
        for metric in ("precision", "recall", "pr_auc"):
            figures[f"{pattern} {metric} (model+rules / rules only)"] = (
                f"{metrics[f'{pattern}_{metric}']:.2f} / {metrics[f'rules_{pattern}_{metric}']:.2f}"
            )
    for metric in ("macro_pr_auc", "precision", "recall", "precision_at_5_per_day", "alerts"):
        figures[f"all patterns {metric} (model+rules / rules only)"] = (
            f"{metrics[metric]:.2f} / {metrics[f'rules_{metric}']:.2f}"
        )
    figures["anomaly alerts (held out)"] = int(metrics["anomaly_alerts"])
    missing = [p for p in PATTERNS if not (labels[held_out] == p).any()]
    if missing:
        figures.update(earlier_window(features, labels, split, missing, budget_s))

    risk_figures, risk_model, risk_features, risk_held_out = member_risk_figures(data, features, budget_s)
    figures.update(risk_figures)

    # scoring throughput at stress scale
    repeats = max(1, stress_rows // max(1, int(held_out.sum())))
    stress = pd.concat([features[held_out]] * repeats, ignore_index=True)
    began = time.perf_counter()
    model.score(stress)
    figures["surveillance scoring rows"] = len(stress)
    figures["surveillance scoring rows/s"] = len(stress) / (time.perf_counter() - began)
    risk_stress = pd.concat(
        [risk_features[risk_held_out]] * max(1, stress_rows // max(1, int(risk_held_out.sum()))),
        ignore_index=True,
    )
    began = time.perf_counter()
    risk_model.probability(risk_stress)
    figures["member-risk scoring rows"] = len(risk_stress)
    figures["member-risk scoring rows/s"] = len(risk_stress) / (time.perf_counter() - began)
    began = time.perf_counter()
    alerts = detect_alerts(LoadedModel("gcx_surveillance", "bench", model), features[held_out])
    seconds = time.perf_counter() - began
    figures["detect_alerts on held-out days: alerts"] = len(alerts)
    figures["detect_alerts rows/s (scores, grouping, explanations)"] = int(held_out.sum()) / seconds
    return figures


def member_risk_figures(
    data: MarketData, surveillance: pd.DataFrame, budget_s: float
) -> tuple[dict[str, object], MemberRiskModel, pd.DataFrame, pd.Series]:
    """Member-risk features (active members only), labels, training on the days before the held-out
    30 %, and the held-out figures with the reliability table. Also returns the model, the features
    and the held-out mask (for the throughput figures)."""
    from dataclasses import replace

    from ml.evaluate import evaluate_member_risk, reliability_table
    from ml.features import member_risk_features
    from ml.labels import FAIL_AFTER_DAYS, LATE_OBLIGATIONS_FOR_EVENT, RISK_HORIZON_DAYS, member_risk_labels
    from ml.predict import rule_hits_per_member_day
    from ml.train import TimeSplit, train_member_risk

    figures: dict[str, object] = {}
    hits = rule_hits_per_member_day(surveillance)
    began = time.perf_counter()
    features = member_risk_features(data, hits)
    figures["member-risk feature rows (active members)"] = len(features)
    figures["member-risk features s"] = time.perf_counter() - began
    every_member = member_risk_features(replace(data, member_versions=None), hits)
    left_out = every_member.merge(features[["member_id", "as_of_date"]], how="left", indicator=True)
    left_out = left_out[left_out._merge == "left_only"]
    figures["member-days not scored (member suspended or terminated by then)"] = (
        f"{len(left_out)} ({', '.join(sorted(left_out.member_id.unique())) or 'none'})"
    )
    labels = member_risk_labels(features, data.settlements)

    split = TimeSplit.of(features.as_of_date)
    train, held_out = split.train(features.as_of_date), split.held_out(features.as_of_date)
    figures["member-risk held out from"] = split.held_out_from.isoformat()
    began = time.perf_counter()
    model, trials = train_member_risk(features[train], labels[train], budget_s=budget_s / 2)
    figures["member-risk training s"] = time.perf_counter() - began
    metrics = evaluate_member_risk(model, features[held_out], labels[held_out])
    figures["member-risk label"] = (
        f"a failed obligation (unpaid {FAIL_AFTER_DAYS} days after its deadline) or at least "
        f"{LATE_OBLIGATIONS_FOR_EVENT} late ones due in the next {RISK_HORIZON_DAYS} days"
    )
    figures["member-risk labelled rows (train / held out)"] = (
        f"{int(labels[train].notna().sum())} / {int(labels[held_out].notna().sum())}"
    )
    figures["member-risk search trials, chosen C"] = f"{len(trials)}, {model.params.get('C')}"
    for key, value in metrics.items():
        figures[f"member risk {key} (held out)"] = f"{value:.4g}"
    known = labels[held_out].notna()
    table = reliability_table(
        labels[held_out][known].astype(int).to_numpy(), model.probability(features[held_out][known])
    )
    for row in table.itertuples(index=False):
        figures[f"member risk reliability [{row.low:.1f}, {row.high:.1f})"] = (
            f"{row.rows} rows, predicted {row.predicted:.3f}, observed {row.observed:.3f}"
        )
    return figures, model, features, held_out
