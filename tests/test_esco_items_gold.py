"""The hand annotation behind ``python -m eval.esco_items``: every annotated item is a gold item of a held-out
article or ad, and every concept it names is an ESCO skill of the shipped tables, of the type a link of its kind
may take."""
from __future__ import annotations

import json
from pathlib import Path

from eval.esco_items import load_gold

HELDOUT = Path(__file__).resolve().parent / "data" / "heldout"


def test_every_annotated_item_is_a_held_out_gold_item_with_shipped_esco_skills():
    from kb.esco.data import load

    gold_items = {}
    for path in HELDOUT.glob("*/gold/*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        gold_items[document["doc_id"]] = {(item["kind"], item["text"]) for item in document["items"]}
    skills = {concept.label("en"): concept for concept in load().skills}
    items = load_gold()
    assert len(items) >= 150 and {item.lang for item in items} == {"sv", "pl", "vi", "en"}
    assert sum(bool(item.labels) for item in items) >= 100  # and the rest test "no link"
    for item in items:
        assert (item.kind, item.text) in gold_items[item.doc_id], item
        assert set(item.labels) <= set(skills), (item, set(item.labels) - set(skills))
        if item.kind == "duty":  # a duty links to skill/competence concepts only
            assert all(skills[label].skill_type == "skill/competence" for label in item.labels), item
