"""How arrays are laid out as bytes in the database: unit vectors (float16) and token states (4-bit).

Vectors are L2-normalized, so float16 keeps a cosine to about 1e-4 and halves the bytes of float32.
Token states (``kb.embedding.tokens``) are stored as 4-bit values with one float16 scale per row (per
word piece), an eighth of float32's bytes: a quantized state keeps a cosine of about 0.97 to the
original, and the rerank ranks within noise of int8 on the search dev set (docs/benchmarks.md). Blobs
written as int8 by earlier versions (their length is even, a 4-bit blob's odd) are still read.
"""
from __future__ import annotations

import numpy as np

VECTOR_DTYPE = np.float16


def vector_blob(vector: np.ndarray) -> bytes:
    """A vector as the bytes the database keeps (float16)."""
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def blob_vector(blob: bytes) -> np.ndarray:
    """A stored vector back as float32."""
    return np.frombuffer(blob, dtype=VECTOR_DTYPE).astype(np.float32)


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """Vectors rounded as the database keeps them (float32 again), so that an index built from the
    database and one filled during an ingest hold the same numbers."""
    return np.asarray(vectors, dtype=VECTOR_DTYPE).astype(np.float32)


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
    values = np.clip(np.rint(states / np.maximum(scales.astype(np.float32), 1e-12)), -127, 127).astype(np.int8)
    return scales.tobytes() + values.tobytes()
