"""How arrays are laid out as bytes in the database: unit vectors (float16) and token states (int8).

Vectors are L2-normalized, so float16 keeps a cosine to about 1e-4 and halves the bytes of float32.
Token states (``kb.embedding.tokens``) are stored as int8 with one float16 scale per row (per word
piece): a cosine between a quantized and an original state is 0.999 or more, at a quarter of float32's
bytes. A blob of token states is the scales of its rows, then their int8 values.
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


def states_blob(states: np.ndarray) -> bytes:
    """Token states (tokens x dim) as int8 with one float16 scale per row."""
    states = np.asarray(states, dtype=np.float32)
    scales = np.abs(states).max(axis=1, keepdims=True) / 127.0
    scales = np.maximum(scales, 1e-12).astype(np.float16)
    safe = np.maximum(scales.astype(np.float32), 1e-12)
    values = np.clip(np.rint(states / safe), -127, 127).astype(np.int8)
    return scales.tobytes() + values.tobytes()


def blob_states(blob: bytes, dim: int) -> np.ndarray:
    """Stored token states back as a (tokens x dim) float32 array."""
    rows = len(blob) // (dim + 2)
    scales = np.frombuffer(blob, dtype=np.float16, count=rows).astype(np.float32)
    values = np.frombuffer(blob, dtype=np.int8, offset=2 * rows).reshape(rows, dim)
    return values.astype(np.float32) * scales[:, None]
