"""Write an evaluation report to a directory: JSON, confusion matrix PNG, misclassified list."""

from __future__ import annotations

import json
from pathlib import Path

from nlu.evaluation import EvaluationReport


def write_report(report: EvaluationReport, out: Path) -> list[Path]:
    """Write report.json, confusion.json, confusion.png and misclassified.json under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": {k: v for k, v in report.to_dict().items() if k != "misclassified"},
        "confusion.json": {"labels": report.labels, "matrix": report.confusion},
        "misclassified.json": report.misclassified,
    }
    written = []
    for name, payload in files.items():
        path = out / name
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    written.append(plot_confusion(report, out / "confusion.png"))
    return written


def plot_confusion(report: EvaluationReport, path: Path) -> Path:
    """A labelled confusion-matrix heat map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(6.0, 0.4 * len(report.labels))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(report.confusion, cmap="Blues")
    ax.set_xticks(range(len(report.labels)), report.labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(report.labels)), report.labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i, row in enumerate(report.confusion):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
