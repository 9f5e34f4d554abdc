"""Shared fixtures: a fake deterministic embedder, the real one, and a corpus knowledge base."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder: shared words give similar vectors."""

    name = "fake"
    dim = 64

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.sha1(word.encode("utf-8")).digest()
            vector[digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        if not vector.any():
            vector[0] = 1.0
        return vector / np.linalg.norm(vector)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def e5():
    from kb.embedding.embedders import open_embedder

    return open_embedder("e5")


@pytest.fixture(scope="session")
def token_encoder():
    """e5's token-state encoder (``kb.embedding.tokens``); the test is skipped where it cannot be built."""
    from kb.embedding.tokens import encoder_for

    found = encoder_for("e5")
    if found is None:
        pytest.skip("e5's token-state library is not built here")
    return found


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the corpus articles."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def corpus_kb_dir(tmp_path_factory: pytest.TempPathFactory, e5) -> Path:
    """A knowledge base of the five corpus articles built once with the real model (read-only use)."""
    from ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("corpus_kb") / "kb"
    report = ingest([str(CORPUS)], kb_dir=folder, embedder=e5)
    assert report.ok, report.summary()
    return folder


@pytest.fixture(scope="session")
def corpus_kb(corpus_kb_dir: Path, e5):
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(corpus_kb_dir, embedder=e5) as kb:
        yield kb


ESCO_ARTICLES = {
    "forklift_operator.txt": "Forklift operator\n\nResponsibilities:\n- Operate forklift\n"
                             "- Load and unload goods from trucks\n- Store goods in the warehouse\n\n"
                             "Requirements:\n- Forklift licence\n",
    "truckforare.txt": "Truckförare\n\nArbetsuppgifter:\n- Köra gaffeltruck\n- Lagra varor i lagret\n\n"
                       "Krav:\n- Kommunikation\n- Truckkort\n",
}


@pytest.fixture(scope="session")
def esco_kb_dir(tmp_path_factory: pytest.TempPathFactory, e5) -> Path:
    """A knowledge base of an English and a Swedish forklift-operator ad, linked to ESCO (read-only use)."""
    from ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("esco_kb")
    (folder / "articles").mkdir()
    for name, text in ESCO_ARTICLES.items():
        (folder / "articles" / name).write_text(text, encoding="utf-8")
    report = ingest([str(folder / "articles")], kb_dir=folder / "kb", embedder=e5)
    assert report.ok, report.summary()
    return folder / "kb"


def matcher_without(**method_changes) -> tuple:
    """(the shipped matcher, the same tables and calibration with ``method_changes`` made to its method): to
    show what one part of the method does."""
    from dataclasses import replace

    from kb.esco.data import load
    from kb.esco.match import Matcher, MatcherConfig
    from kb.esco.vectors import load_vectors

    data = load()
    vectors = load_vectors(data.folder)
    config = MatcherConfig.load()
    changed = replace(config, method=replace(config.method, **method_changes))
    return Matcher(data, vectors, config), Matcher(data, vectors, changed)
