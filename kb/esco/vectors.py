"""Label vectors of the ESCO concepts: which texts are embedded, and their int8 store next to the tables."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.errors import KBError

VECTORS_FILE = "vectors.npy"
ROWS_FILE = "vector_rows.npy"
SCALES_FILE = "vector_scales.npy"
META_FILE = "vectors.json"
FIELDS = ("preferred", "alternative", "description")
KINDS = ("occupation", "skill")
# Which texts become index rows, chosen by measurement and by the size budget (docs/esco_evaluation.md):
# preferred labels in every language, alternative labels in every language but English (English has
# 30k occupation and 97k skill alternatives: 50+ MB of vectors and an hour of embedding on 2 cores), and
# the English descriptions of occupations (duty prose, for whole job descriptions) and of skills (a duty is
# prose too: docs/esco_evaluation.md, "Centered descriptions").
ALTERNATIVES_SKIPPED = ("en",)
EMBED_DESCRIPTIONS = {"occupation": ("en",), "skill": ("en",)}


@dataclass(frozen=True)
class IndexRow:
    """One embedded text: whose it is (kind, concept number), its language and field, and the text."""

    kind: int  # index into KINDS
    concept: int
    lang: str
    field: int  # index into FIELDS
    text: str


def index_rows(data) -> list[IndexRow]:
    """The texts to embed for a table set, in a fixed order (kind, concept, language, field)."""
    rows: list[IndexRow] = []
    for kind_number, (kind, concepts) in enumerate((("occupation", data.occupations), ("skill", data.skills))):
        for number, concept in enumerate(concepts):
            for lang in sorted(concept.labels):
                labels = concept.labels[lang]
                rows.append(IndexRow(kind_number, number, lang, 0, labels[0]))
                if lang not in ALTERNATIVES_SKIPPED:
                    rows.extend(IndexRow(kind_number, number, lang, 1, text) for text in labels[1:])
            for lang in EMBED_DESCRIPTIONS[kind]:
                if concept.descriptions.get(lang):
                    rows.append(IndexRow(kind_number, number, lang, 2, concept.descriptions[lang]))
    return rows


def row_prefix(row: IndexRow) -> str:
    """e5 prefix of a row: labels are short and matched symmetrically (query:), descriptions are passages."""
    return "passage" if row.field == 2 else "query"


def embed_rows(rows: list[IndexRow], cache_dir: Path | None = None, model=None) -> np.ndarray:
    """Vectors of index rows (float32, normalized), through the optional cache; prints progress."""
    from kb.esco.embedcache import embed_texts

    vectors = np.zeros((len(rows), 384), dtype=np.float32)
    for prefix in ("query", "passage"):
        chosen = [number for number, row in enumerate(rows) if row_prefix(row) == prefix]
        if chosen:
            print(f"embedding {len(chosen)} ESCO texts ({prefix})", file=sys.stderr, flush=True)
            vectors[chosen] = embed_texts([rows[n].text for n in chosen], prefix, model=model, cache_dir=cache_dir)
    return vectors


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8 quantization: (codes, float16 scales)."""
    scales = np.maximum(np.abs(vectors).max(axis=1), 1e-8) / 127.0
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales.astype(np.float16)


def build_vectors(data, folder: Path, cache_dir: Path | None = None, model=None) -> None:
    """Embed the index rows of ``data`` and write them (int8) into ``folder``."""
    rows = index_rows(data)
    codes, scales = quantize(embed_rows(rows, cache_dir=cache_dir, model=model))
    table = np.array([(row.kind, row.concept, data.languages.index(row.lang), row.field) for row in rows],
                     dtype=np.int32).reshape(-1, 4)
    for name, array in ((VECTORS_FILE, codes), (SCALES_FILE, scales), (ROWS_FILE, table)):
        np.save(folder / name, array, allow_pickle=False)
    meta = {"embedder": "e5", "dim": int(codes.shape[1]) if len(codes) else 384, "languages": list(data.languages),
            "fields": list(FIELDS), "kinds": list(KINDS), "rows": len(rows)}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True, eq=False)
class LabelVectors:
    """The loaded index: float32 vectors and, per row, kind, concept number, language number and field."""

    vectors: np.ndarray
    kind: np.ndarray
    concept: np.ndarray
    lang: np.ndarray
    field: np.ndarray
    languages: tuple[str, ...]


def load_vectors(folder: Path) -> LabelVectors:
    """Read the int8 index of a table folder and expand it to float32 unit vectors."""
    try:
        codes = np.load(folder / VECTORS_FILE, allow_pickle=False)
        scales = np.load(folder / SCALES_FILE, allow_pickle=False)
        table = np.load(folder / ROWS_FILE, allow_pickle=False)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KBError(f"no usable ESCO label vectors ({error.__class__.__name__})", where=str(folder),
                      hint="import the ESCO download again, or rebuild with 'python -m kb.esco.build'") from error
    vectors = codes.astype(np.float32)
    vectors *= scales.astype(np.float32)[:, None]
    return LabelVectors(normalize_rows(vectors), table[:, 0], table[:, 1], table[:, 2], table[:, 3], tuple(meta["languages"]))


ROW_BLOCK = 4096


def normalize_rows(vectors: np.ndarray, centers: np.ndarray | None = None,
                   groups: np.ndarray | None = None) -> np.ndarray:
    """``vectors`` (2-D float32, changed in place and returned) less ``centers[groups]`` row by row where given,
    then L2-normalized: the arithmetic of ``v - c; v / max(norm(v), 1e-12)`` by blocks of rows, so no
    full-size temporary array is made."""
    for begin in range(0, len(vectors), ROW_BLOCK):
        block = vectors[begin:begin + ROW_BLOCK]
        if centers is not None:
            block -= centers[groups[begin:begin + ROW_BLOCK]]
        block /= np.maximum(np.linalg.norm(block, axis=-1, keepdims=True), 1e-12)
    return vectors


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
