"""Temperature-scaled softmax: turns margin scores into calibrated probabilities."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_TEMPERATURES = np.logspace(-2.5, 1.0, 36)


def softmax(scores: NDArray[np.floating], temperature: float) -> NDArray[np.float64]:
    """Row-wise softmax of `scores / temperature`."""
    scaled = np.asarray(scores, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: NDArray[np.floating], targets: NDArray[np.intp]) -> float:
    """The temperature minimizing negative log-likelihood of held-out `scores`."""
    rows = np.arange(len(targets))
    best, best_loss = 1.0, np.inf
    for temperature in _TEMPERATURES:
        probs = softmax(scores, float(temperature))
        loss = -np.log(np.clip(probs[rows, targets], 1e-12, None)).mean()
        if loss < best_loss:
            best, best_loss = float(temperature), float(loss)
    return best
