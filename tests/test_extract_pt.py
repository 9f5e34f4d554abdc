"""Portuguese duty and skill extraction with the cue words of ingest/lang/pt.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("O rececionista é responsável pelo atendimento aos hóspedes.", "atendimento aos hóspedes"),
    ("A assistente ficará encarregada da gestão da agenda do diretor.", "gestão da agenda do diretor"),
    ("A sua função é supervisionar a equipa de sala.", "supervisionar a equipa de sala"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("pt", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("O assistente deverá registar as faturas dos fornecedores.", "registar as faturas dos fornecedores"),
    ("Você vai elaborar relatórios semanais para a direção.", "elaborar relatórios semanais para a direção"),
    ("A rececionista pode gerir as reservas dos clientes.", "gerir as reservas dos clientes"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("pt", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Exige-se experiência mínima de 3 anos em atendimento ao cliente.",
     "experiência mínima de 3 anos em atendimento ao cliente", "experience"),
    ("Serão valorizados conhecimentos de alemão ou francês.", "conhecimentos de alemão ou francês", "knowledge"),
    ("É necessário ter carta de condução.", "carta de condução", "education"),
    ("O conhecimento de inglês é fundamental.", "O conhecimento de inglês", "knowledge"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("pt", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, expected", [
    ("Entre as suas funções estão atender os clientes, repor os produtos e receber os pagamentos.",
     ["atender os clientes", "repor os produtos", "receber os pagamentos"]),
    ("O trabalho consiste em atender as chamadas e registar as ocorrências.",
     ["atender as chamadas", "registar as ocorrências"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("pt", sentence), "duty") == expected


@pytest.mark.parametrize("lines, expected", [
    (["Responsabilidades:", "Registar faturas de fornecedores no ERP", "Gestão de pagamentos e recebimentos",
      "Oferecemos:", "Contrato sem termo e bom ambiente de trabalho."],
     [("duty", "Registar faturas de fornecedores no ERP"), ("duty", "Gestão de pagamentos e recebimentos")]),
    (["Requisitos:", "Carta de condução categoria B", "Pessoa organizada, proativa e com espírito de equipa"],
     [("skill", "Carta de condução categoria B"), ("skill", "Pessoa organizada"), ("skill", "proativa"),
      ("skill", "com espírito de equipa")]),
    (["Quem somos", "Somos uma rede de hotéis com doze unidades no Algarve.",
      "Atividades", "Atender os hóspedes na receção"],
     [("duty", "Atender os hóspedes na receção")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("pt", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "O Grupo Atlântico é uma empresa familiar com mais de 25 anos de história e armazéns em Portugal.",
    "Somos uma empresa líder no setor da logística com mais de 500 colaboradores.",
    "A empresa foi fundada em 1995 e tem escritórios em Lisboa e São Paulo.",
    "O salário médio de um rececionista em Portugal é de 900 euros por mês.",
    "O coordenador trabalha como elo de ligação entre os departamentos.",
])
def test_company_descriptions_role_names_and_career_talk_yield_nothing(sentence: str) -> None:
    assert items_of("pt", sentence) == []
