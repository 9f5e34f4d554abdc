"""A role against its ESCO occupation: the occupation's essential skills, which of them the article
covers (with the item and sentence that cover it) and which it leaves out (the gaps).

An essential skill counts as covered when it is among the matcher's calibrated matches of one of the
article's duties or skills (the first ``CANDIDATES`` above the no-link threshold), not only when it is
that item's single best link: "obsługa wózka widłowego" covers "operate forklift" and also, less
surely, "transport goods"; the score says how sure.
"""
from __future__ import annotations

CANDIDATES = 10


def role_profile(kb, doc_id: str, label_lang: str = "en") -> dict:
    """The article's ESCO occupations and, for the best one, its essential skills covered or not."""
    doc_id = kb.resolve_doc(doc_id)
    article = kb.article(doc_id)
    occupations = kb.occupations(doc_id, label_lang)
    profile = {"doc_id": doc_id, "title": article["title"], "lang": article["lang"], "occupations": occupations,
               "essential": [], "gaps": []}
    matcher = kb.esco_matcher
    if not occupations or matcher is None:
        return profile
    essential = [uri for uri, relation in matcher.data.essential_skills(occupations[0]["esco_uri"])]
    covered = _covering_items(kb, matcher, doc_id, set(essential), label_lang)
    for uri in essential:
        item = covered.get(uri)
        entry = {"esco_uri": uri, "esco_label": kb.esco_label(uri, label_lang), "covered": item is not None,
                 "item": item["text"] if item else None, "sentence": item["sentence"] if item else None,
                 "score": item["score"] if item else None}
        profile["essential"].append(entry)
        if item is None:
            profile["gaps"].append(entry)
    return profile


def _covering_items(kb, matcher, doc_id: str, wanted: set[str], label_lang: str) -> dict[str, dict]:
    """For each wanted skill URI, the article's item that matches it best (with that match's score)."""
    rows = kb.store.select_units(kinds=("duty", "skill"), doc_id=doc_id)
    if not rows or not wanted:
        return {}
    vectors = kb.index.reconstruct([row["id"] for row in rows])
    best: dict[str, dict] = {}
    for row, matches in zip(rows, matcher.match_vectors(vectors, "skill", CANDIDATES, label_lang=label_lang,
                                                        passage=True)):
        for match in matches:
            if match.uri in wanted and match.score > best.get(match.uri, {}).get("score", -1.0):
                best[match.uri] = {"text": row["text"], "sentence": row["sentence"], "score": match.score}
    return best


def format_profile(profile: dict) -> str:
    """The profile as terminal text."""
    lines = [f"{profile['doc_id']}  {profile['title']}  [{profile['lang']}]"]
    if not profile["occupations"]:
        return "\n".join(lines + ["no ESCO occupation fits this article"])
    for rank, occupation in enumerate(profile["occupations"], 1):
        lines.append(f"  ESCO occupation {rank}: {occupation['esco_label']} ({occupation['esco_score']:.2f})  "
                     f"{occupation['esco_uri']}")
    if not profile["essential"]:
        return "\n".join(lines + [f"ESCO lists no essential skills for {profile['occupations'][0]['esco_label']}"])
    covered = [entry for entry in profile["essential"] if entry["covered"]]
    lines.append(f"essential skills of {profile['occupations'][0]['esco_label']}: {len(covered)} of "
                 f"{len(profile['essential'])} covered")
    for entry in covered:
        lines.append(f"  + {entry['esco_label']} ({entry['score']:.2f}): {entry['item']}")
    for entry in profile["gaps"]:
        lines.append(f"  - {entry['esco_label']}")
    return "\n".join(lines)

