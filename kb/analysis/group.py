"""Cross-language grouping of duties and skills into groups of the same meaning.

e5 vectors carry a strong language component: two unrelated Swedish skills are
often closer than a Swedish skill and its Polish translation. Grouping therefore
works on *centered* vectors: each language's mean item vector (shrunk toward the
mean of all items when a language has few) is removed before normalizing, which
lifts pair F1 on ``tests/data/groups.jsonl`` from 0.40 to about 0.7 (see
``python -m eval.grouping``). On top of that, items with the same lemmas (or the
same normalized text) always share a group.

Grouping is incremental and greedy: every item not yet grouped joins the group
whose members are most similar to it on average (average linkage), if that mean
similarity reaches ``THRESHOLD``, else it seeds a new group. The mean over members
rather than the cosine to the normalized centroid keeps a loose group from
attracting ever more items: on the labelled set it lifts pair precision from 0.74
to 0.87 at the same recall (``python -m eval.grouping``). A group id is a hash of its kind and its seed's normalized
text, so regrouping the same data gives the same ids, and groups whose members
were all removed keep their row (and seed vector) so that re-ingested members
find their old id again.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from kb.search.bias import language_means, subtract_language_means
from kb.embedding.embedders import normalize
from kb.storage.store import Store, now
from kb.text.lemmas import lemmatize

GROUP_KINDS = ("duty", "skill")
# Calibrated on tests/data/groups.jsonl with `python -m eval.grouping` (mean cosine of centered vectors).
THRESHOLD = 0.36
SHRINK_ITEMS = 10  # a language with n items uses n/(n+10) of its own mean, the rest from all items
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Group:
    """A group being built: its id, seed, summed centered member vectors and lemma keys."""

    id: str
    kind: str
    seed: str
    seed_lang: str
    seed_vector: np.ndarray | None
    total: np.ndarray
    keys: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)
    created_at: str = ""

    def centroid(self) -> np.ndarray:
        """The normalized mean of the centered member vectors."""
        return normalize(self.total)

    def mean_member(self) -> np.ndarray:
        """The mean of the centered member vectors: its dot product with an item is the item's
        mean similarity to the members (the seed's vector for a group whose members are gone)."""
        return self.total / max(len(self.members), 1)


def normalize_text(text: str) -> str:
    """Lowercase words joined by single spaces (punctuation dropped)."""
    return " ".join(_WORD.findall(text.lower()))


def lemma_key(text: str, lang: str) -> str:
    """The item's words as lowercase lemmas, so that inflected forms compare equal."""
    words = _WORD.findall(text.lower())
    return " ".join(lemmatize(word, lang) for word in words)


def group_id(kind: str, seed_text: str) -> str:
    """The stable id of a group seeded by this text."""
    return "g" + hashlib.sha1(f"{kind}:{normalize_text(seed_text)}".encode("utf-8")).hexdigest()[:12]


class Grouping:
    """The groups of one grouping run, and per kind what ``assign`` looks up: which group first holds each
    lemma key, and a matrix of the groups' mean members (grown as groups come), so an item is compared with
    all the groups of its kind in one product instead of a list rebuilt per item."""

    def __init__(self, groups: list[Group]) -> None:
        self.groups: list[Group] = []
        self._kinds: dict[str, _KindRows] = {}
        for group in groups:
            self.add(group)

    def add(self, group: Group) -> None:
        """A group at the end of the list (a new one, or one loaded from the store)."""
        self.groups.append(group)
        self._kinds.setdefault(group.kind, _KindRows()).add(group)

    def by_key(self, kind: str, keys: Sequence[str]) -> Group | None:
        """The first group of the kind (in list order) holding any of the keys."""
        rows = self._kinds.get(kind)
        return None if rows is None else rows.by_key(keys)

    def closest(self, kind: str, vector: np.ndarray) -> tuple[Group | None, float]:
        """The group of the kind whose members are most similar to the vector on average, and that mean."""
        rows = self._kinds.get(kind)
        return (None, -1.0) if rows is None else rows.closest(vector)

    def joined(self, group: Group, vector: np.ndarray, keys: Sequence[str], unit_id: int) -> None:
        """Put an item (its centered vector, lemma keys and id) into a group of this grouping."""
        group.total = group.total + vector
        group.members.append(unit_id)
        self._kinds[group.kind].joined(group, keys)


class _KindRows:
    """The groups of one kind: their order, first holder of each key and mean members as matrix rows."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.position: dict[int, int] = {}  # id() of a group -> its row
        self.first: dict[str, int] = {}  # lemma key -> row of the first group holding it
        self.means = np.zeros((0, 0), dtype=np.float32)

    def add(self, group: Group) -> None:
        row = len(self.groups)
        self.groups.append(group)
        self.position[id(group)] = row
        if len(self.means) == row:  # room for twice as many rows
            grown = np.zeros((max(16, 2 * row), len(group.total)), dtype=np.float32)
            if row:
                grown[:row] = self.means[:row]
            self.means = grown
        self.means[row] = group.mean_member()
        self._keys(row, group.keys)

    def joined(self, group: Group, keys: Sequence[str]) -> None:
        row = self.position[id(group)]
        group.keys.update(keys)
        self.means[row] = group.mean_member()
        self._keys(row, keys)

    def _keys(self, row: int, keys) -> None:
        for key in keys:
            if self.first.get(key, row + 1) > row:
                self.first[key] = row

    def by_key(self, keys: Sequence[str]) -> Group | None:
        rows = [self.first[key] for key in keys if key in self.first]
        return self.groups[min(rows)] if rows else None

    def closest(self, vector: np.ndarray) -> tuple[Group | None, float]:
        if not self.groups:
            return None, -1.0
        similarities = self.means[:len(self.groups)] @ vector
        position = int(np.argmax(similarities))
        return self.groups[position], float(similarities[position])


def assign(grouping: Grouping, kind: str, text: str, lang: str, unit_id: int, vector: np.ndarray,
           threshold: float = THRESHOLD) -> tuple[Group, float]:
    """Put one item in the best group of its kind (lemma match first, else the highest mean similarity to its members) or a new one."""
    keys = (lemma_key(text, lang), normalize_text(text))
    best, score = grouping.by_key(kind, keys), 1.0
    if best is None:
        best, score = grouping.closest(kind, vector)
        if best is not None and score < threshold:
            best = None
    if best is None:
        best = Group(group_id(kind, text), kind, text, lang, None, np.zeros_like(vector), created_at=now())
        grouping.add(best)
        score = 1.0
    grouping.joined(best, vector, keys, unit_id)
    return best, score


def centered_vectors(vectors: np.ndarray, langs: Sequence[str]) -> np.ndarray:
    """Vectors without their language's mean (shrunk toward all items' for languages with few), renormalized:
    what grouping, compare and their evaluation compare."""
    return subtract_language_means(vectors, langs, language_means(vectors, langs, SHRINK_ITEMS))


def cluster(texts: Sequence[str], langs: Sequence[str], kinds: Sequence[str], vectors: np.ndarray,
            threshold: float = THRESHOLD) -> list[str]:
    """Group items from scratch; returns each item's group id (used by the evaluation)."""
    centered = centered_vectors(vectors, langs)
    grouping = Grouping([])
    return [assign(grouping, kind, text, lang, position, centered[position], threshold)[0].id
            for position, (text, lang, kind) in enumerate(zip(texts, langs, kinds))]


def update_groups(store: Store, full: bool = False, threshold: float = THRESHOLD) -> dict[str, int]:
    """Group every duty and skill not yet grouped (all of them when ``full``); returns counts."""
    units, vectors = store.unit_vectors(GROUP_KINDS)
    full = full or store.get_meta("group_threshold") != str(threshold)
    with store.transaction():
        if full:
            store.clear_groups()
        members = store.group_members()
        langs = [unit["lang"] for unit in units]
        means = language_means(vectors, langs, SHRINK_ITEMS)
        centered = subtract_language_means(vectors, langs, means)
        position_of = {unit["id"]: position for position, unit in enumerate(units)}
        groups = _load_groups(store, units, centered, members, position_of, means)
        grouping = Grouping(groups)
        added = []
        for position, unit in enumerate(units):
            if unit["id"] in members:
                continue
            group, score = assign(grouping, unit["kind"], unit["text"], unit["lang"], unit["id"],
                                  centered[position], threshold)
            if group.seed_vector is None:
                group.seed_vector = vectors[position]
            added.append((unit["id"], group.id, round(score, 4)))
        rows = [_group_row(group, units, centered, position_of) for group in grouping.groups]
        store.save_groups(rows, added)
        store.set_meta("group_threshold", str(threshold))
    return {"groups": sum(1 for group in grouping.groups if group.members), "grouped": len(added), "items": len(units)}


def _load_groups(store: Store, units: list[dict], centered: np.ndarray, members: dict[int, str],
                 position_of: dict[int, int], means: dict[str, np.ndarray]) -> list[Group]:
    """The stored groups with their current members' centered vectors (seed vector where none is left)."""
    groups = []
    for row in store.groups():
        seed_vector = row["seed_vector"]
        groups.append(Group(row["id"], row["kind"], row["seed"], row["seed_lang"], seed_vector,
                            np.zeros(centered.shape[1] if len(centered) else 0, np.float32),
                            {lemma_key(row["seed"], row["seed_lang"]), normalize_text(row["seed"])},
                            created_at=row["created_at"]))
    by_id = {group.id: group for group in groups}
    for unit_id, group_id_value in members.items():
        group, position = by_id.get(group_id_value), position_of.get(unit_id)
        if group is None or position is None:
            continue
        unit = units[position]
        group.total = group.total + centered[position]
        group.keys.update((lemma_key(unit["text"], unit["lang"]), normalize_text(unit["text"])))
        group.members.append(unit_id)
    for group in groups:
        if not group.members and group.seed_vector is not None and len(group.total):
            group.total = subtract_language_means(group.seed_vector[None, :], [group.seed_lang], means)[0]
    return groups


def _group_row(group: Group, units: list[dict], centered: np.ndarray, position_of: dict[int, int]) -> dict:
    """The group's row: label (an English member where there is one, else the most central) and subtype."""
    row = {"id": group.id, "kind": group.kind, "seed": group.seed, "seed_lang": group.seed_lang,
           "seed_vector": group.seed_vector, "label": group.seed, "label_lang": group.seed_lang,
           "subtype": "", "created_at": group.created_at}
    positions = [position_of[unit_id] for unit_id in group.members if unit_id in position_of]
    if not positions:
        return row
    centrality = centered[positions] @ group.centroid()
    ranked = sorted(zip(positions, centrality), key=lambda pair: (-pair[1], units[pair[0]]["id"]))
    english = [position for position, _ in ranked if units[position]["lang"] == "en"]
    label = units[english[0] if english else ranked[0][0]]
    subtypes = [units[position]["subtype"] for position in positions if units[position]["subtype"]]
    row.update(label=label["text"], label_lang=label["lang"],
               subtype=max(sorted(set(subtypes)), key=subtypes.count) if subtypes else "")
    return row
