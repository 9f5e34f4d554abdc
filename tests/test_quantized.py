"""The int8 similarity product (kb.embedding.quantized): float32's scores to rounding, the same on every path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embedding import quantized
from kb.esco.vectors import load_vectors

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "kb" / "esco" / "data"


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    """ESCO's shipped label vectors: 3,001 rows as the table (not a multiple of the kernel's 64), the
    next 37 as queries (not a multiple of its 4)."""
    vectors = load_vectors(TABLES).vectors
    return vectors[:3038]


def test_int8_scores_are_float_scores_to_rounding(labels):
    table, queries = labels[:3001], labels[3001:]
    exact = queries @ table.T
    scores = quantized.similarities(queries, quantized.quantize_table(table))
    assert scores.shape == exact.shape
    assert np.abs(scores - exact).max() < 0.006
    assert np.abs(scores - exact).mean() < 0.001
    # the best rows are the same where float32's best two are not within rounding of each other
    top = np.sort(exact, axis=1)[:, -2:]
    clear = top[:, 1] - top[:, 0] > 0.006
    assert clear.sum() >= 10
    assert (scores.argmax(axis=1) == exact.argmax(axis=1))[clear].all()


def test_the_kernel_gives_blas_scores_to_the_bit(labels):
    table = quantized.quantize_table(labels[:3001])
    for count in (1, 4, 37):  # fewer queries than the kernel's block, a block, blocks and a rest
        queries = labels[3001:3001 + count]
        assert np.array_equal(quantized.similarities(queries, table),
                              quantized.similarities(queries, table, kernel=False))


def _scores_in_a_process(**env: str) -> np.ndarray:
    code = ("import json, sys, numpy as np; from kb.embedding import quantized as q; "
            "from kb.esco.vectors import load_vectors; "
            "v = load_vectors(__import__('pathlib').Path(sys.argv[1])).vectors; "
            "print(json.dumps(q.similarities(v[3001:3038], q.quantize_table(v[:3001])).tolist()))")
    done = subprocess.run([sys.executable, "-c", code, str(TABLES)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=True, cwd=ROOT)
    return np.asarray(json.loads(done.stdout), dtype=np.float32)


def test_every_instruction_set_gives_the_same_scores(labels):
    # AVX-512 VNNI, AVX-VNNI and BLAS, where this machine has them; else the same path twice
    wide = _scores_in_a_process(E5T_NO_VNNI="0", E5T_NO_AVX512="0")
    narrow = _scores_in_a_process(E5T_NO_VNNI="0", E5T_NO_AVX512="1")
    blas = _scores_in_a_process(E5T_NO_VNNI="1")
    assert np.array_equal(wide, narrow) and np.array_equal(wide, blas)
    assert np.array_equal(wide, quantized.similarities(labels[3001:], quantized.quantize_table(labels[:3001])))


def test_padding_rows_never_reach_the_scores(labels):
    table = quantized.quantize_table(labels[:70])
    assert len(table.scales) == 80 and table.rows == 70
    scores = quantized.similarities(labels[100:103], table)
    assert scores.shape == (3, 70)
    assert np.isfinite(scores).all()


def test_a_zero_row_scores_zero(labels):
    table = np.vstack([labels[:5], np.zeros((1, labels.shape[1]), dtype=np.float32)])
    scores = quantized.similarities(labels[10:12], quantized.quantize_table(table))
    assert (scores[:, 5] == 0).all() and (np.abs(scores[:, :5]) > 0).all()


def test_vectors_of_another_size_are_refused(labels):
    table = quantized.quantize_table(labels[:10])
    with pytest.raises(ValueError, match="dimensions"):
        quantized.similarities(labels[:2, :100], table)
    with pytest.raises(ValueError, match="multiple of 4"):
        quantized.quantize_table(labels[:10, :382])


def test_a_part_of_a_table_scores_its_rows_as_the_whole_does(labels):
    whole = quantized.quantize_table(labels[:3001])
    queries = labels[3001:3010]
    scores = quantized.similarities(queries, whole)
    for begin, end in ((0, 3001), (5, 21), (16, 48), (37, 2999), (100, 100)):
        part = whole.part(begin, end)
        assert np.shares_memory(part.packed, whole.packed) or begin == end
        assert np.array_equal(quantized.similarities(queries, part), scores[:, begin:end])
        assert np.array_equal(quantized.similarities(queries, part, kernel=False), scores[:, begin:end])
    inner = whole.part(37, 2999).part(3, 50)  # a part of a part
    assert np.array_equal(quantized.similarities(queries, inner), scores[:, 40:87])
    with pytest.raises(ValueError, match="rows"):
        whole.part(10, 3002)


def test_without_the_library_blas_gives_the_same_scores(labels, monkeypatch):
    table = quantized.quantize_table(labels[:500])
    queries = labels[600:610]
    expected = quantized.similarities(queries, table)
    monkeypatch.setattr(quantized, "_kernel", lambda: None)  # no compiler here: the library was not built
    assert np.array_equal(quantized.similarities(queries, table), expected)
