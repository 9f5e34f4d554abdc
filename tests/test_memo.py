"""Values kept per knowledge base and store generation (kb.search.memo)."""
from __future__ import annotations

from kb.search.memo import forget, per_generation


class Store:
    generation = 0


class KnowledgeBase:
    def __init__(self) -> None:
        self.store = Store()


def counting(calls: list):
    def compute():
        calls.append(1)
        return len(calls)
    return compute


def test_a_value_is_computed_once_per_store_generation():
    kb, calls = KnowledgeBase(), []
    assert [per_generation(kb, "count", counting(calls)) for _ in range(3)] == [1, 1, 1]
    kb.store.generation = 1  # a write committed
    assert per_generation(kb, "count", counting(calls)) == 2 == len(calls)


def test_values_are_kept_apart_by_knowledge_base_and_name():
    first, second, calls = KnowledgeBase(), KnowledgeBase(), []
    assert per_generation(first, "a", counting(calls)) == 1
    assert per_generation(first, "b", counting(calls)) == 2
    assert per_generation(second, "a", counting(calls)) == 3
    assert per_generation(first, "a", counting(calls)) == 1


def test_a_forgotten_value_is_computed_again_in_the_same_generation():
    kb, calls = KnowledgeBase(), []
    per_generation(kb, "mean", counting(calls))
    forget(kb, "mean")
    forget(kb, "never kept")
    assert per_generation(kb, "mean", counting(calls)) == 2
