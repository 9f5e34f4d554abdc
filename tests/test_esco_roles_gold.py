"""The hand annotation behind ``python -m eval.esco_roles``: every annotated text exists and every occupation
it names is an ESCO occupation of the shipped tables."""
from __future__ import annotations

from eval.esco_roles import load_gold, split_title


def test_every_annotated_role_text_exists_and_names_shipped_esco_occupations():
    from kb.esco.data import load

    gold = load_gold()
    labels = {concept.label("en") for concept in load().occupations}
    assert len(gold) >= 70
    for path, occupations in gold:
        assert path.exists(), path
        assert occupations and set(occupations) <= labels, (path, set(occupations) - labels)
        title, body = split_title(path.read_text(encoding="utf-8"))
        assert title and len(body.split()) > len(title.split())
