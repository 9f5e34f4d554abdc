"""Fitting of the matcher's adapter (language directions to remove, a ridge map for queries) on ESCO labels.

Training pairs are labels of the same concept in different languages, so the adapter learns what
separates languages and how a label relates to the rest of its concept. The evaluation cross-fits it:
trained on one half of the concepts, measured on the other.
"""
from __future__ import annotations

import numpy as np

from kb.esco.data import EscoData
from kb.esco.scoring import (Adapter, KindIndex, Method, TextHead, _unit, center_queries, head_map, head_table,
                             kind_index)
from kb.esco.vectors import KINDS, LabelVectors

TEXT_HEAD = {"rank": 64, "epochs": 10, "temperature": 0.05, "seed": 13}


def fit_adapter(index: LabelVectors, kind: str, count: int, method: Method, train: np.ndarray,
                directions: int = 8, ridge: float | None = 1.0) -> Adapter:
    """Fit on the concepts where ``train`` (bool per concept) is true; ``ridge=None``: no query map."""
    own = index.kind == KINDS.index(kind)
    keep = np.zeros(len(index.concept), dtype=bool)
    keep[own] = train[index.concept[own]]
    prepared = kind_index(index, kind, count, method, keep=keep)
    labels, concept, lang = prepared.labels, prepared.label_concept, prepared.label_lang
    basis = np.zeros((0, labels.shape[1]), dtype=np.float32)
    if directions:
        basis = _language_directions(labels, concept, lang, directions)
    adapter = Adapter(basis)
    if ridge is None:
        return adapter
    projected = adapter.project(labels)
    sums = np.zeros((count, labels.shape[1]), dtype=np.float64)
    np.add.at(sums, concept, projected)
    sizes = np.bincount(concept, minlength=count)
    alone = sizes[concept] < 2
    targets = _unit((sums[concept] - projected) / np.maximum(sizes[concept] - 1, 1)[:, None])
    x, y = projected[~alone].astype(np.float64), targets[~alone]
    dim = x.shape[1]
    weight = ridge * len(x) / dim
    query_map = np.linalg.solve(x.T @ x + weight * np.eye(dim), x.T @ y + weight * np.eye(dim))
    return Adapter(basis, query_map.astype(np.float32))


def _language_directions(labels: np.ndarray, concept: np.ndarray, lang: np.ndarray, count: int) -> np.ndarray:
    """Top principal directions of (language mean - other language mean) differences within concepts."""
    languages = np.unique(lang)
    means = {}
    for language in languages:
        rows = lang == language
        sums = np.zeros((int(concept.max()) + 1, labels.shape[1]))
        np.add.at(sums, concept[rows], labels[rows])
        sizes = np.bincount(concept[rows], minlength=len(sums))
        means[language] = (sums / np.maximum(sizes, 1)[:, None], sizes > 0)
    differences = []
    for first in languages:
        for second in languages:
            if first < second:
                both = means[first][1] & means[second][1]
                differences.append(means[first][0][both] - means[second][0][both])
    stacked = np.vstack(differences)
    _, _, vt = np.linalg.svd(stacked - stacked.mean(axis=0), full_matrices=False)
    return vt[:count].astype(np.float32)


def fit_shared_map(index: LabelVectors, kind: str, counts: dict[str, int], method: Method, train: np.ndarray,
                   **options) -> Adapter:
    """The head of ``train_head`` as an adapter (its dense map I + down @ up)."""
    down, up = train_head(index, kind, counts, method, train, **options)
    return Adapter(np.zeros((0, down.shape[0]), dtype=np.float32), shared_map=head_map(down, up))


def train_head(index: LabelVectors, kind: str, counts: dict[str, int], method: Method, train: np.ndarray,
               rank: int = 64, epochs: int = 20, temperature: float = 0.05, decay: float = 1e-4,
               seed: int = 13) -> tuple[np.ndarray, np.ndarray]:
    """A low-rank residual map x -> x + (x @ down) @ up for labels and queries alike, trained contrastively
    (InfoNCE, in-batch negatives, fixed seed) so that two labels of one concept land near each other: pairs
    from the concepts of ``kind`` where ``train`` holds, and from every concept of the other kind (no concept
    of ``kind`` that is measured is ever seen). Returns (down, up)."""
    import torch

    vectors, concepts = [], []
    offset = 0
    for other in KINDS:
        own = index.kind == KINDS.index(other)
        keep = np.zeros(len(index.concept), dtype=bool)
        keep[own] = train[index.concept[own]] if other == kind else True
        prepared = kind_index(index, other, counts[other], method, keep=keep)
        vectors.append(prepared.labels)
        concepts.append(prepared.label_concept + offset)
        offset += counts[other]
    labels, concept = np.vstack(vectors), np.concatenate(concepts)
    order = np.argsort(concept, kind="stable")
    labels, concept = labels[order], concept[order]
    starts = np.flatnonzero(np.r_[True, concept[1:] != concept[:-1]])
    sizes = np.diff(np.r_[starts, len(concept)])
    starts, sizes = starts[sizes >= 2], sizes[sizes >= 2]
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = labels.shape[1]
    down = torch.nn.Parameter(torch.randn(dim, rank, generator=generator) * 0.01)
    up = torch.nn.Parameter(torch.zeros(rank, dim))
    optimizer = torch.optim.Adam([down, up], lr=2e-3, weight_decay=0.0)
    table = torch.from_numpy(labels.astype(np.float32))

    def mapped(x):
        return torch.nn.functional.normalize(x + (x @ down) @ up, dim=1)

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is faster than several sharing two busy cores
    for _ in range(epochs):
        first = rng.integers(0, sizes)
        second = (first + rng.integers(1, sizes)) % sizes
        pairs = np.stack([starts + first, starts + second], axis=1)[rng.permutation(len(starts))]
        for begin in range(0, len(pairs), 512):
            batch = torch.from_numpy(pairs[begin:begin + 512])
            left, right = mapped(table[batch[:, 0]]), mapped(table[batch[:, 1]])
            logits = left @ right.T / temperature
            target = torch.arange(len(batch))
            loss = (torch.nn.functional.cross_entropy(logits, target)
                    + torch.nn.functional.cross_entropy(logits.T, target)) / 2
            loss = loss + decay * (down.pow(2).sum() + up.pow(2).sum())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    torch.set_num_threads(threads)
    return down.detach().numpy().astype(np.float32), up.detach().numpy().astype(np.float32)


def description_texts(data: EscoData, languages: tuple[str, ...] = ("en", "pl")) -> tuple[list[str], np.ndarray]:
    """The text head's training texts and their occupation numbers: each occupation description in
    ``languages``, whole and without its first sentence (which names the occupation), so the head learns duty
    prose with and without its title."""
    from eval.esco import _after_first_sentence

    texts, owners = [], []
    for number, concept in enumerate(data.occupations):
        for lang in languages:
            whole = concept.descriptions.get(lang, "")
            for text in (whole, _after_first_sentence(whole)):
                if text:
                    texts.append(text)
                    owners.append(number)
    return texts, np.array(owners, dtype=np.int64)


def train_text_head(vectors: np.ndarray, owners: np.ndarray, index: KindIndex, train: np.ndarray,
                    rank: int = 64, epochs: int = 10, temperature: float = 0.05, seed: int = 13,
                    target: str = "labels") -> TextHead:
    """A query-side low-rank residual map x -> x + (x @ down) @ up for long texts, trained (softmax over what
    ``target`` names for the concepts where ``train`` holds: their mean label vectors, or their descriptions;
    fixed seed) so that a text's vector lands nearest its own concept's. Only texts of those concepts are read,
    so the concepts of the other half are never seen."""
    import torch

    chosen = train[owners]
    if not chosen.any():
        raise ValueError("no training text belongs to a concept of the training half")
    targets = np.flatnonzero(train)
    position = np.full(len(train), -1)
    position[targets] = np.arange(len(targets))
    inputs = torch.from_numpy(center_queries(vectors[chosen], index).astype(np.float32))
    labels = torch.from_numpy(position[owners[chosen]])
    table = torch.from_numpy(np.ascontiguousarray(head_table(index, target)[targets]))
    generator = torch.Generator().manual_seed(seed)
    dim = inputs.shape[1]
    down = torch.nn.Parameter(torch.randn(dim, rank, generator=generator) * 0.01)
    up = torch.nn.Parameter(torch.zeros(rank, dim))
    optimizer = torch.optim.Adam([down, up], lr=2e-3)
    rng = np.random.default_rng(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        for begin in range(0, len(order), 256):
            batch = torch.from_numpy(order[begin:begin + 256])
            x = inputs[batch]
            mapped = torch.nn.functional.normalize(x + (x @ down) @ up, dim=1)
            loss = torch.nn.functional.cross_entropy(mapped @ table.T / temperature, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    torch.set_num_threads(threads)
    return TextHead(down.detach().numpy().astype(np.float32), up.detach().numpy().astype(np.float32), target)


def text_head_inputs(data: EscoData, view: str, cache) -> tuple[np.ndarray, np.ndarray]:
    """The text head's training vectors and their occupation numbers (``description_texts``), read as the head
    of ``view`` reads its input: "text", each text's e5 query: vector; "document", its sentences' mean
    (``document_views``), as ingest reads an untitled article."""
    from kb.esco.embedcache import embed_texts

    texts, owners = description_texts(data)
    vectors = embed_texts(texts, "query", cache_dir=cache) if view == "text" else document_views(texts, cache)
    return vectors, owners


def document_views(texts: list[str], cache, mapped: bool = True) -> np.ndarray:
    """Each text as ingest sees an untitled article: the mean of its sentences' e5 passage: vectors, normalized,
    through the shipped passage map (``kb.esco.match.load_passage_map``; ``mapped=False``: not yet, for a matcher
    that maps passage vectors itself)."""
    import re

    from kb.embedding.embedders import normalize
    from kb.esco.embedcache import embed_texts
    from kb.esco.match import load_passage_map

    parts = [[part for part in re.split(r"(?<=[.!?])\s+", text) if part.strip()] or [text] for text in texts]
    unique = sorted({part for text_parts in parts for part in text_parts})
    vectors = dict(zip(unique, embed_texts(unique, "passage", cache_dir=cache)))
    views = normalize(np.vstack([np.mean([vectors[part] for part in text_parts], axis=0) for text_parts in parts]))
    passage_map = load_passage_map() if mapped else None
    return views if passage_map is None else normalize(views @ passage_map)
