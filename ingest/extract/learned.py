"""The extraction stage with the learned model: candidate units, one batched embedding, scoring, decoding."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ingest.extract.model import Model, decode, load_model, scored
from ingest.extract.units import Unit, article_units
from kb.embedding.embedders import Embedder
from kb.records import Item, Sentence


def learned_items(sentences: list[Sentence], embedder: Embedder, title: str = "", text: str = "",
                  model: Model | None = None) -> list[Item]:
    """The items of one article by the learned model (``text``: the article text the offsets point into)."""
    units = article_units(sentences, title, text)
    if not units:
        return []
    unit_vectors, sentence_vectors = unit_and_sentence_vectors(units, embedder)
    return decode(scored(model or load_model(), units, unit_vectors, sentence_vectors))


def unit_and_sentence_vectors(units: Sequence[Unit], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """The e5 passage vectors of the units and of their sentences, each distinct text embedded once."""
    unit_texts = [unit.text for unit in units]
    sentence_texts = [unit.sentence.text for unit in units]
    unique = list(dict.fromkeys(unit_texts + sentence_texts))
    vectors = dict(zip(unique, embedder.embed_passages(unique)))
    return np.vstack([vectors[text] for text in unit_texts]), np.vstack([vectors[text] for text in sentence_texts])


def uses_learned_model(embedder: Embedder | None) -> bool:
    """Whether the learned model applies: it was trained on e5 vectors, so only with the e5 embedder."""
    return embedder is not None and embedder.name == "e5"
