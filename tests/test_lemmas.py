"""Lemmas come from simplemma's dictionaries kept as tries on disk: the same lemmas as simplemma's own
dictionaries, without decoding hundreds of megabytes into memory in every process."""
from __future__ import annotations

import pytest

from kb.text import lemmas

WORDS = {"pl": "pracownikami obsługuje klientów wózka widłowego kalendarzem",
         "sv": "arbetsuppgifter ansvarar kunderna truckförare hanterar",
         "en": "managing schedules organised meetings"}


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_lemmas_from_the_tries_equal_simplemmas_own(lang):
    import simplemma

    for word in WORDS[lang].split():
        assert lemmas.lemmatize(word, lang) == simplemma.lemmatize(word.lower(), lang=lang).lower()


def test_a_dictionary_is_kept_as_a_trie_file_once_used():
    lemmas.lemmatize("pracownikami", "pl")
    assert (lemmas.trie_folder() / "pl.dic").stat().st_size > 1_000_000
