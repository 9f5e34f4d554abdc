"""Calibrated match scores: a logistic model over rank features, fitted in eval/esco.py on held-out data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("score", "gap_to_next", "gap_to_first", "first_gap")


def rank_features(scores: np.ndarray) -> np.ndarray:
    """Features of each candidate from a (queries, k+1) array of scores sorted best first.

    ``score``: the raw score; ``gap_to_next``: lead over the next candidate; ``gap_to_first``: how far
    behind the best it is; ``first_gap``: the best candidate's lead (how sure the query is as a whole).
    Returns (queries, k, 4); the last column of ``scores`` only serves the gaps.
    """
    scores = np.asarray(scores, dtype=np.float64)
    head = scores[:, :-1]
    gap_to_next = head - scores[:, 1:]
    gap_to_first = scores[:, :1] - head
    first_gap = np.repeat(scores[:, :1] - scores[:, 1:2], head.shape[1], axis=1)
    return np.stack([head, gap_to_next, gap_to_first, first_gap], axis=-1)


@dataclass(frozen=True)
class Calibration:
    """P(candidate is the right concept) = sigmoid(bias + weights . features); no link below ``threshold``."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """(queries, k) probabilities of the first k candidates from (queries, k+1) sorted scores."""
        features = (rank_features(scores) - np.array(self.mean)) / np.array(self.scale)
        probabilities = 1.0 / (1.0 + np.exp(-(features @ np.array(self.weights) + self.bias)))
        # The lead over the next candidate can lift a lower candidate above a higher one: a candidate is
        # never more likely than one ranked before it.
        return np.minimum.accumulate(probabilities, axis=1)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"weights": list(self.weights), "bias": self.bias, "threshold": self.threshold,
                "mean": list(self.mean), "scale": list(self.scale), "features": list(FEATURES)}

    @classmethod
    def from_dict(cls, value: dict) -> "Calibration":
        """Inverse of ``to_dict``."""
        return cls(tuple(value["weights"]), float(value["bias"]), float(value["threshold"]),
                   tuple(value["mean"]), tuple(value["scale"]))


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1e-3, steps: int = 50) -> Calibration:
    """Fit the logistic model by Newton's method on standardized features (threshold left at 0.5)."""
    mean = features.mean(axis=0)
    scale = np.maximum(features.std(axis=0), 1e-9)
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    y = labels.astype(np.float64)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + l2 * np.r_[w[:-1], 0.0]
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Calibration(tuple(float(v) for v in w[:-1]), float(w[-1]), 0.5, tuple(float(v) for v in mean),
                       tuple(float(v) for v in scale))
