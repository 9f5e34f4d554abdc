"""The skill list: cross-language skill groups with how many roles and languages mention them."""
from __future__ import annotations

from kb.errors import KBError
from kb.analysis.group import update_groups
from kb.records import SKILL_SUBTYPES

EXAMPLES_PER_LANGUAGE = 3


def ensure_groups(kb) -> None:
    """Group items that are not grouped yet (a knowledge base built before grouping, or a new threshold)."""
    from kb.analysis.group import THRESHOLD

    members = kb.store.group_members()
    counts = kb.store.counts()
    if len(members) < counts["duties"] + counts["skills"] or kb.store.get_meta("group_threshold") != str(THRESHOLD):
        update_groups(kb.store)


def skill_list(kb, lang: str | None = None, subtype: str | None = None, top: int | None = None) -> list[dict]:
    """Skill groups, most widely mentioned first: label, subtype, roles, languages and example members."""
    if subtype is not None and subtype not in SKILL_SUBTYPES:
        raise KBError(f"unknown skill subtype {subtype!r}", hint=f"use one of {', '.join(SKILL_SUBTYPES)}")
    if top is not None and top < 1:
        raise KBError(f"--top must be at least 1, not {top}")
    ensure_groups(kb)
    return group_list(kb, "skill", lang=lang, subtype=subtype, top=top)


def group_list(kb, kind: str, lang: str | None = None, subtype: str | None = None,
               top: int | None = None) -> list[dict]:
    """Groups of one kind with their members; ``lang`` keeps groups that have a member in that language."""
    unit_groups = kb.store.unit_groups()
    info = {row["id"]: row for row in kb.store.groups()}
    groups: dict[str, dict] = {}
    for unit in kb.store.select_units(kinds=(kind,)):
        group_id, label = unit_groups.get(unit["id"], ("", unit["text"]))
        if not group_id:
            continue
        group = groups.setdefault(group_id, {
            "group_id": group_id, "label": label, "label_lang": info[group_id]["label_lang"],
            "subtype": info[group_id]["subtype"], "roles": set(), "mentions": 0, "members": {}})
        group["roles"].add(unit["doc_id"])
        group["mentions"] += 1
        texts = group["members"].setdefault(unit["lang"], [])
        if unit["text"] not in texts:
            texts.append(unit["text"])
    result = []
    for group in groups.values():
        if lang and lang not in group["members"]:
            continue
        if subtype and group["subtype"] != subtype:
            continue
        members = {code: texts[:EXAMPLES_PER_LANGUAGE] for code, texts in sorted(group["members"].items())}
        result.append({**group, "roles": len(group["roles"]), "role_ids": sorted(group["roles"]),
                       "languages": sorted(members), "members": members})
    result.sort(key=lambda g: (-g["roles"], -len(g["languages"]), -g["mentions"], g["label"].lower()))
    return result[:top] if top else result


def format_skill(group: dict) -> str:
    """One line of the plain-text skill list."""
    examples = "; ".join(f"{lang}: {', '.join(texts)}" for lang, texts in group["members"].items())
    roles, languages = group["roles"], len(group["languages"])
    return (f"{group['label']} [{group['subtype'] or '-'}] {roles} role{'s' * (roles != 1)}, "
            f"{languages} language{'s' * (languages != 1)} ({', '.join(group['languages'])}) | {examples}")
