"""Russian duty and skill extraction with the cue words of ingest/lang/ru.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Кладовщик отвечает за приёмку товара на склад.", "приёмку товара на склад"),
    ("Оператор занимается обработкой входящих заявок.", "обработкой входящих заявок"),
    ("Вам предстоит вести переписку с зарубежными партнёрами.", "вести переписку с зарубежными партнёрами"),
    ("В его обязанности входит проверка путевых листов.", "проверка путевых листов"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("ru", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("Специалист должен проверять первичную документацию.", "проверять первичную документацию"),
    ("Вы будете консультировать клиентов по телефону.", "консультировать клиентов по телефону"),
    ("Администратор может принимать оплату от посетителей.", "принимать оплату от посетителей"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("ru", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Требуется опыт работы с маркетплейсами не менее года.", "опыт работы с маркетплейсами не менее года",
     "experience"),
    ("Обязательно наличие водительского удостоверения.", "наличие водительского удостоверения", "education"),
    ("Желательно знание английского языка на уровне B2.", "знание английского языка на уровне B2", "knowledge"),
    ("Приветствуется высшее экономическое образование.", "высшее экономическое образование", "education"),
    ("Кандидат должен обладать навыками ведения переговоров.", "навыками ведения переговоров", "skill"),
    ("Знание 1С будет преимуществом.", "Знание 1С", "knowledge"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("ru", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, kind, expected", [
    ("Менеджер ведёт клиентскую базу, выставляет счета и контролирует оплату.", "duty",
     ["ведёт клиентскую базу", "выставляет счета", "контролирует оплату"]),
    ("В обязанности администратора входит встреча гостей, бронирование номеров и оформление документов.", "duty",
     ["встреча гостей", "бронирование номеров", "оформление документов"]),
    ("Мы ждём от вас пунктуальности, аккуратности и умения работать с большим объёмом информации.", "skill",
     ["пунктуальности", "аккуратности", "умения работать с большим объёмом информации"]),
])
def test_enumerations_become_one_item_each(sentence: str, kind: str, expected: list[str]) -> None:
    assert texts(items_of("ru", sentence), kind) == expected


@pytest.mark.parametrize("lines, expected", [
    (["Обязанности:", "Приём и выдача заказов", "Работа с кассой", "Мы предлагаем:",
      "Стабильную зарплату два раза в месяц."],
     [("duty", "Приём и выдача заказов"), ("duty", "Работа с кассой")]),
    (["Требования:", "Среднее профессиональное образование", "Опыт работы кассиром от полугода",
      "Вежливость и стрессоустойчивость"],
     [("skill", "Среднее профессиональное образование"), ("skill", "Опыт работы кассиром от полугода"),
      ("skill", "Вежливость"), ("skill", "стрессоустойчивость")]),
    (["О компании", "Мы — крупнейшая сеть аптек в регионе.", "Задачи", "Консультировать покупателей по ассортименту"],
     [("duty", "Консультировать покупателей по ассортименту")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("ru", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Компания работает на рынке логистики более 15 лет.",
    "Наш офис находится в центре Москвы, рядом с метро.",
    "Средняя зарплата бухгалтера в Москве составляет 80 000 рублей.",
    "Если вы хотите стать программистом, начните с изучения Python.",
    "Менеджер работает в качестве связующего звена между отделами.",
    "Опыт работы не требуется.",
])
def test_company_descriptions_career_talk_and_negated_requirements_yield_nothing(sentence: str) -> None:
    assert items_of("ru", sentence) == []
