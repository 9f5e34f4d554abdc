"""Blank spaCy pipelines: one per language in a process, shared by splitting, tokenizing and the cue matcher."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from ingest.extract.rules import load_rules
from ingest.sentences import split
from kb.records import Article
from kb.text.lemmas import tokenize
from kb.text.pipelines import blank_pipeline

ROOT = Path(__file__).resolve().parent.parent
DUTCH = "Wij zoeken een magazijnmedewerker. Je bent verantwoordelijk voor het laden van vrachtwagens."


def article(text: str, lang: str) -> Article:
    return Article(doc_id="doc", path="doc.txt", text=text, title="", encoding="utf-8", content_hash="0",
                   body=((0, len(text)),), lang=lang)


def test_splitting_and_tokenizing_a_language_build_its_pipeline_once(monkeypatch):
    import spacy

    built: Counter[str] = Counter()
    real_blank = spacy.blank

    def counting_blank(code: str, *args, **kwargs):
        built[code] += 1
        return real_blank(code, *args, **kwargs)

    monkeypatch.setattr(spacy, "blank", counting_blank)
    blank_pipeline.cache_clear()
    try:
        found = [sentence.text for sentence in split([article(DUTCH, "nl")])]
        tokens = tokenize(found[1] + " ", "nl")  # a text no earlier test has tokenized (the cache)
        assert found == ["Wij zoeken een magazijnmedewerker.",
                         "Je bent verantwoordelijk voor het laden van vrachtwagens."]
        assert [token.text for token in tokens][:3] == ["Je", "bent", "verantwoordelijk"]
        assert built == Counter({"nl": 1})
    finally:
        blank_pipeline.cache_clear()


def test_the_cue_matcher_uses_the_vocabulary_of_the_shared_pipeline():
    load_rules.cache_clear()  # rules cached before another test cleared the pipelines keep their old vocabulary
    rules = load_rules("sv")
    assert rules.matcher.vocab is blank_pipeline("sv").vocab
    labels = {label for label, _, _ in rules.match(tokenize("Du ansvarar för att laga mat.", "sv"))}
    assert "FRAME:0" in labels


def test_languages_without_a_pipeline_share_the_multi_language_one():
    assert blank_pipeline("sw") is blank_pipeline("xx") is blank_pipeline("")


def test_splitting_and_tokenizing_do_not_import_torch():
    code = ("import sys\n"
            "from ingest.sentences import split\n"
            "from kb.records import Article\n"
            "from ingest.extract.rules import load_rules\n"
            "text = 'Vi söker en kock. Du lagar mat.'\n"
            "found = list(split([Article('d', 'd.txt', text, '', 'utf-8', '0', body=((0, len(text)),), lang='sv')]))\n"
            "assert len(found) == 2 and load_rules('sv').matcher is not None\n"
            "print(sorted(m for m in ('torch', 'spacy') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[0] == "['spacy']"
    import_torch = "from kb.text.pipelines import blank_pipeline\nblank_pipeline('sv')\nimport torch\nprint(torch.ones(2).sum().item())"
    result = subprocess.run([sys.executable, "-c", import_torch], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "2.0"  # torch still loads after spaCy, for the sentence-transformers embedder
