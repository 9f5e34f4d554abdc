"""How arrays are stored: unit vectors as int8 and token states as 4 bits a value, each with a scale per
row, and the float16 vectors and int8 states of earlier versions still read."""
from __future__ import annotations

import numpy as np

from kb.storage.codec import _int8_blob, as_stored, blob_states, blob_vector, states_blob, vector_blob


def _states(rows: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    states = rng.normal(size=(rows, dim)).astype(np.float32)
    states[:, 7] *= 6  # an outlier dimension, as transformer states have
    return states


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_token_states_take_half_a_byte_a_value_and_keep_their_direction():
    states = _states(40, 384)
    blob = states_blob(states)
    assert len(blob) == 1 + 40 * (2 + 384 // 2)  # marker, a float16 scale a row, two values a byte
    cosines = _cosines(states, blob_states(blob, 384))
    assert cosines.min() > 0.85 and cosines.mean() > 0.96


def test_int8_blobs_of_earlier_versions_are_still_read():
    states = _states(41, 384)
    old = _int8_blob(states)
    assert len(old) % 2 == 0 and _cosines(states, blob_states(old, 384)).min() > 0.999


def test_a_dimension_not_divisible_by_four_is_kept_as_int8():
    states = _states(5, 30)
    blob = states_blob(states)
    assert len(blob) == 5 * 32 and np.abs(blob_states(blob, 30) - states).max() < 0.05


def _unit_vectors(rows: int, dim: int) -> np.ndarray:
    vectors = _states(rows, dim)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_vector_takes_a_byte_a_dimension_and_keeps_its_direction():
    vectors = _unit_vectors(50, 384)
    blobs = [vector_blob(vector) for vector in vectors]
    assert {len(blob) for blob in blobs} == {1 + 2 + 384}  # marker, a float16 scale, a byte a value
    back = np.vstack([blob_vector(blob) for blob in blobs])
    assert _cosines(vectors, back).min() > 0.999


def test_vectors_rounded_as_stored_equal_the_stored_ones():
    vectors = _unit_vectors(20, 384)
    np.testing.assert_array_equal(as_stored(vectors), np.vstack([blob_vector(vector_blob(v)) for v in vectors]))
    np.testing.assert_array_equal(as_stored(vectors[3]), blob_vector(vector_blob(vectors[3])))


def test_float16_vectors_of_earlier_versions_are_still_read():
    vectors = _unit_vectors(10, 384)
    for vector in vectors:
        old = vector.astype(np.float16).tobytes()
        assert len(old) == 768 and np.abs(blob_vector(old) - vector).max() < 1e-3


def test_token_states_are_pooled_to_a_quarter_of_the_rows_and_keep_what_the_rerank_reads():
    from kb.storage.token_pool import pool_states

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(5, 64)).astype(np.float32)
    states = np.repeat(centres, 4, axis=0) + 0.05 * rng.normal(size=(20, 64)).astype(np.float32)
    pooled = pool_states(states)
    assert pooled.shape == (5, 64)
    # each pooled row is the mean of one centre's four noisy copies, so every piece keeps a near twin
    best = (_cosines(np.repeat(states, 5, axis=0), np.tile(pooled, (20, 1))).reshape(20, 5)).max(axis=1)
    assert best.min() > 0.99
    assert pool_states(states[:1]).shape == (1, 64) and pool_states(states[:3]).shape == (1, 64)
