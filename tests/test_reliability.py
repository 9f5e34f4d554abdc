"""The reliability check of the span tagger's confidence: its error measures and table, and one real run on a
held-out article."""
from __future__ import annotations

import numpy as np
import pytest

from eval.reliability import scored_items, summary, table


def test_confidence_that_matches_the_share_right_has_no_calibration_error():
    confidence = np.array([0.25] * 4 + [0.75] * 4)
    right = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=float)
    line = summary(confidence, right)
    assert "ECE 0.000" in line and "8 items" in line and "right 0.50" in line


def test_over_confidence_shows_as_calibration_error_and_in_the_table():
    confidence = np.array([0.95] * 10)
    right = np.array([1] * 6 + [0] * 4, dtype=float)
    assert "ECE 0.350" in summary(confidence, right)
    assert table(confidence, right) == ["| 0.9-1.0 | 0.95 | 0.60 | 10 |"]


@pytest.mark.slow
def test_the_shipped_taggers_items_on_held_out_ads_are_scored_right_or_wrong_by_language():
    from ingest.extract.tagger import TAGGER_WEIGHTS
    from ingest.extract.train_tagger import StateCache

    found = scored_items(TAGGER_WEIGHTS, ["heldout_ads"], StateCache(None))
    confidence, right, langs = found["heldout_ads"]
    assert len(confidence) > 50 and ((confidence > 0) & (confidence < 1)).all()
    assert 0.5 < right.mean() < 1.0  # most items of unseen ads fit a gold span, not all
    assert set(langs) == {"sv", "pl", "vi", "en"}
