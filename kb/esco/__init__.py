"""ESCO, the EU's multilingual classification of occupations and skills: tables and a text -> ESCO matcher.

    import kb.esco
    kb.esco.match(["truckförare"], type="occupation")        # [[Match(uri=..., label=..., score=0.9)]]
    kb.esco.link(item_vectors, ["duty", "skill", "document"])  # ingest: best concept or None per item
    kb.esco.essential_skills(occupation_uri)                  # [(skill uri, "essential"|"optional")]

Data: ESCO, European Commission (https://esco.ec.europa.eu), reused under Decision 2011/833/EU.
"""
from kb.esco.data import Concept, EscoData, Info, essential_skills, info, label, load
from kb.esco.importer import import_official
from kb.esco.match import Match, Matcher, link, match, match_vectors, open_matcher

__all__ = ["Concept", "EscoData", "Info", "Match", "Matcher", "essential_skills", "import_official", "info",
           "label", "link", "load", "match", "match_vectors", "open_matcher"]
