"""How arrays are laid out as bytes in the database: unit vectors (int8) and token states (4-bit).

Vectors are L2-normalized and stored as int8 with one float16 scale per vector, a quarter of float32's
bytes: a stored vector keeps a cosine of about 0.9999 to the original, and search ranks as with float16
on the search dev set (docs/benchmarks.md). Blobs written as float16 by earlier versions (their length is
even, an int8 blob's odd) are still read.
Token states (``kb.embedding.tokens``) are stored as 4-bit values with one float16 scale per row (per
word piece), an eighth of float32's bytes: a quantized state keeps a cosine of about 0.97 to the
original, and the rerank ranks within noise of int8 on the search dev set (docs/benchmarks.md). Blobs
written as int8 by earlier versions (their length is even, a 4-bit blob's odd) are still read.
"""
from __future__ import annotations

import numpy as np

INT8 = b"\x08"  # first byte of an int8 vector blob; with an even dimension its length is odd, a float16 blob's even


def vector_blob(vector: np.ndarray) -> bytes:
    """A vector as the bytes the database keeps: ``INT8``, a float16 scale, then one int8 value a dimension."""
    vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
    scale = _scales(vector, 127.0)
    return INT8 + scale.tobytes() + _int8_values(vector, scale, 127).tobytes()


def blob_vector(blob: bytes) -> np.ndarray:
    """A stored vector back as float32 (int8, or float16 as earlier versions wrote)."""
    if len(blob) % 2 and blob[:1] == INT8:
        scale = np.frombuffer(blob, dtype=np.float16, count=1, offset=1).astype(np.float32)
        return np.frombuffer(blob, dtype=np.int8, offset=3).astype(np.float32) * scale[0]
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """Vectors rounded as the database keeps them (float32 again), so that an index built from the
    database and one filled during an ingest hold the same numbers."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        return as_stored(vectors[None, :])[0]
    scales = _scales(vectors, 127.0)
    return _int8_values(vectors, scales, 127).astype(np.float32) * scales.astype(np.float32)


NIBBLE = b"\x04"  # first byte of a 4-bit blob; with a dimension divisible by 4 its length is odd, an int8 blob's even


def states_blob(states: np.ndarray) -> bytes:
    """Token states (tokens x dim) as 4-bit values with one float16 scale per row: ``NIBBLE``, the scales,
    then two values a byte (int8 where the dimension is not divisible by 4, so that the two stay apart)."""
    states = np.asarray(states, dtype=np.float32)
    if states.shape[1] % 4:
        return _int8_blob(states)
    scales = _scales(states, 7.0)
    values = (np.clip(np.rint(states / np.maximum(scales.astype(np.float32), 1e-12)), -7, 7) + 8).astype(np.uint8)
    packed = (values[:, 0::2] << 4) | values[:, 1::2]
    return NIBBLE + scales.tobytes() + packed.tobytes()


def blob_states(blob: bytes, dim: int) -> np.ndarray:
    """Stored token states back as a (tokens x dim) float32 array (4-bit, or int8 as earlier versions wrote)."""
    if dim % 4 == 0 and len(blob) % 2 and blob[:1] == NIBBLE:
        rows = (len(blob) - 1) // (dim // 2 + 2)
        scales = np.frombuffer(blob, dtype=np.float16, count=rows, offset=1).astype(np.float32)
        packed = np.frombuffer(blob, dtype=np.uint8, offset=1 + 2 * rows).reshape(rows, dim // 2)
        values = np.empty((rows, dim), dtype=np.float32)
        values[:, 0::2], values[:, 1::2] = (packed >> 4), (packed & 0x0F)
        return (values - 8) * scales[:, None]
    rows = len(blob) // (dim + 2)
    scales = np.frombuffer(blob, dtype=np.float16, count=rows).astype(np.float32)
    values = np.frombuffer(blob, dtype=np.int8, offset=2 * rows).reshape(rows, dim)
    return values.astype(np.float32) * scales[:, None]


def _scales(states: np.ndarray, levels: float) -> np.ndarray:
    """One float16 scale per row: its largest magnitude over the number of levels."""
    return np.maximum(np.abs(states).max(axis=1, keepdims=True) / levels, 1e-12).astype(np.float16)


def _int8_blob(states: np.ndarray) -> bytes:
    """Token states as int8 with one float16 scale per row (an even number of bytes for any dimension)."""
    scales = _scales(states, 127.0)
    return scales.tobytes() + _int8_values(states, scales, 127).tobytes()


def _int8_values(rows: np.ndarray, scales: np.ndarray, levels: int) -> np.ndarray:
    """Rows divided by their float16 scales, rounded to whole values within ±levels."""
    return np.clip(np.rint(rows / np.maximum(scales.astype(np.float32), 1e-12)), -levels, levels).astype(np.int8)
