"""Multilingual job-description knowledge base: store, index, search, export."""
from __future__ import annotations

from kb.errors import KBError
from kb.records import Article, Hit, Item, Sentence

__all__ = ["KnowledgeBase", "KBError", "Article", "Hit", "Item", "Sentence"]


def __getattr__(name: str):
    # Imported on first use so that 'import kb' stays light.
    if name == "KnowledgeBase":
        from kb.knowledge import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)
