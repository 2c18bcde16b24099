"""Server-side charts: inline SVG strings from matplotlib (no CDN, no external fonts)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backend.reports.automation import AutomationReport
from backend.reports.nlu_health import NluHealthReport
from backend.reports.outcomes import OutcomesReport
from backend.reports.recovery import RecoveryReport
from backend.reports.strategy import StrategyReport
from backend.reports.view import percent_text

COLOR = "#2b6cb0"
SECOND = "#dd6b20"
# Text stays <text> (readable, searchable, tiny) in the page's own sans-serif font; ids are
# salted so the same figures give the same SVG bytes.
RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "parley", "font.family": "sans-serif",
      "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
Number = int | float | Decimal | None


def _to_svg(figure: Figure, title: str) -> str:
    # A bare Figure renders through the SVG canvas: no pyplot, no GUI backend, thread-safe.
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return re.sub(r"<svg ", f'<svg role="img" aria-label="{label}" ', svg, count=1)


def _figure(title: str, width: float = 6.4, height: float = 3.2) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=10)
    return figure, axes


def _values(values: Sequence[Number]) -> list[float]:
    return [0.0 if v is None else float(v) for v in values]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[Number], *,
              percent: bool = False, target: float | None = None) -> str:
    """Horizontal bars, one per label, each with its value written at its end."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(title, height=max(1.6, 0.5 + 0.32 * len(labels)))
        numbers = _values(values)
        if not labels:
            axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
            return _to_svg(figure, title)
        scale = 100.0 if percent else 1.0
        bars = axes.barh(list(labels), [n * scale for n in numbers], color=COLOR)
        axes.invert_yaxis()
        axes.bar_label(bars, labels=_labels(values, numbers, percent), padding=3)
        if target is not None:
            axes.axvline(target * scale, color=SECOND, linestyle="--", label="target")
            axes.legend(loc="lower right", frameon=False)
        axes.margins(x=0.18)
        return _to_svg(figure, title)


def _labels(values: Sequence[Number], numbers: list[float], percent: bool) -> list[str]:
    if percent:
        # As the tables show them: a float is for the bar's length, never for its label.
        return [percent_text(0 if v is None else v) for v in values]
    if all(isinstance(v, int) for v in values):
        return [f"{n:,.0f}" for n in numbers]
    if all(isinstance(v, Decimal) for v in values):
        return [f"{v:,f}" for v in values]  # amounts keep their currency's minor units
    return [f"{n:,.2f}" for n in numbers]


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[Number]]) -> str:
    """One line per series over the same labels (weeks, days)."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(title)
        if not labels:
            axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
            return _to_svg(figure, title)
        for (name, values), color in zip(series.items(), (COLOR, SECOND), strict=False):
            axes.plot(list(labels), _values(values), marker="o", markersize=3, label=name,
                      color=color)
        axes.tick_params(axis="x", labelrotation=60, labelsize=7)
        axes.legend(loc="best", frameon=False)
        return _to_svg(figure, title)


def recovery_charts(report: RecoveryReport) -> dict[str, str]:
    """The recovery page's charts by name."""
    weeks = report.collected_by_week
    return {
        "recovery_by_portfolio": bar_chart(
            "Recovery rate by portfolio", [r.label for r in report.by_portfolio],
            [r.recovery_rate for r in report.by_portfolio], percent=True),
        "recovery_by_dpd_bucket": bar_chart(
            "Recovery rate by days past due", [r.key for r in report.by_dpd_bucket],
            [r.recovery_rate for r in report.by_dpd_bucket], percent=True),
        "aging": bar_chart("Open balance by days past due", [a.bucket for a in report.aging],
                           [a.open_balance for a in report.aging]),
        "collected_by_week": line_chart("Collected by week", [w.week for w in weeks],
                                        {"collected": [w.amount for w in weeks]}),
        "payments_by_channel": bar_chart(
            "Payments by channel and method",
            [f"{p.channel} / {p.method}" for p in report.payments_by_channel],
            [p.amount for p in report.payments_by_channel]),
    }


def outcomes_charts(report: OutcomesReport) -> dict[str, str]:
    """The outcomes page's charts by name."""
    return {
        "rates": bar_chart("Conversation outcomes", [r.metric.replace("_", " ")
                                                     for r in report.rates],
                           [r.rate for r in report.rates], percent=True),
        "plans_by_status": bar_chart("Payment plans by status",
                                     [p.status for p in report.plans_by_status],
                                     [p.plans for p in report.plans_by_status]),
    }


def automation_charts(report: AutomationReport) -> dict[str, str]:
    """The automation page's charts by name (the target line when all queues share one)."""
    handoffs = report.handoffs
    targets = {h.target_seconds for h in handoffs}
    return {
        "containment": bar_chart("Resolved by the bot alone, by channel",
                                 [c.channel for c in report.containment],
                                 [c.containment_rate for c in report.containment], percent=True),
        "first_response": bar_chart(
            "Average first response (s) by queue and reason",
            [f"{h.queue} / {h.reason}" for h in handoffs],
            [h.avg_first_response_seconds for h in handoffs],
            target=float(targets.pop()) if len(targets) == 1 else None),
    }


def nlu_charts(report: NluHealthReport) -> dict[str, str]:
    """The NLU health page's charts by name."""
    return {
        "intent_mix": bar_chart("Inbound messages by intent", [i.intent for i in report.intents],
                                [i.messages for i in report.intents]),
        "low_confidence": bar_chart("Low-confidence share by intent",
                                    [i.intent for i in report.intents],
                                    [i.low_confidence_rate for i in report.intents],
                                    percent=True),
    }


def strategy_charts(report: StrategyReport) -> dict[str, str]:
    """The strategy page's charts by name (one bar per step and variant)."""
    labels = [f"{s.step} / {s.variant}" if s.variant else s.step for s in report.steps]
    return {
        "pay_rate": bar_chart("Paid within the window, share of sends", labels,
                              [s.pay_rate for s in report.steps], percent=True),
        "reply_rate": bar_chart("Replied within the window, share of sends", labels,
                                [s.reply_rate for s in report.steps], percent=True),
        "collected": bar_chart("Collected (attributed) by step and variant", labels,
                               [s.collected for s in report.steps]),
    }
