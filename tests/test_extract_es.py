"""Spanish duty and skill extraction with the cue words of ingest/lang/es.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("El recepcionista es responsable de la atención a los huéspedes.", "la atención a los huéspedes"),
    ("Te encargarás de la gestión de la agenda del director.", "la gestión de la agenda del director"),
    ("Otra de sus funciones es supervisar al personal de sala.", "supervisar al personal de sala"),
    ("La gestión de proveedores es una de sus tareas principales.", "La gestión de proveedores"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("es", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("El auxiliar deberá registrar las facturas de los proveedores.", "registrar las facturas de los proveedores"),
    ("Tendrás que elaborar informes semanales para la dirección.", "elaborar informes semanales para la dirección"),
    ("La recepcionista puede gestionar las reservas de los clientes.", "gestionar las reservas de los clientes"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("es", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence", [
    "Los directores pueden aprobar el presupuesto anual.",
    "El departamento de pisos se encarga de la limpieza de las habitaciones.",
])
def test_frames_of_other_people_yield_nothing(sentence: str) -> None:
    assert items_of("es", sentence) == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Se requiere experiencia mínima de 3 años en atención al cliente.",
     "experiencia mínima de 3 años en atención al cliente", "experience"),
    ("Se valorarán conocimientos de alemán o francés.", "conocimientos de alemán o francés", "knowledge"),
    ("Es necesario tener carnet de conducir.", "carnet de conducir", "education"),
    ("Cuenta con un máster en Recursos Humanos.", "un máster en Recursos Humanos", "education"),
    ("Valorable experiencia en el sector de la hostelería.", "experiencia en el sector de la hostelería",
     "experience"),
    ("La capacidad de trabajar en equipo es fundamental.", "La capacidad de trabajar en equipo", "skill"),
    ("El conocimiento de inglés es imprescindible.", "El conocimiento de inglés", "knowledge"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("es", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, expected", [
    ("Entre sus funciones se encuentran atender a los clientes, reponer los lineales y cobrar en caja.",
     ["atender a los clientes", "reponer los lineales", "cobrar en caja"]),
    ("El enfermero administra la medicación, controla las constantes vitales y actualiza la historia clínica.",
     ["administra la medicación", "controla las constantes vitales", "actualiza la historia clínica"]),
    ("Su trabajo consiste en atender las llamadas y registrar las incidencias.",
     ["atender las llamadas", "registrar las incidencias"]),
    ("También deberá gestionar las reservas telefónicas y por correo electrónico, resolver las incidencias "
     "y coordinarse con el departamento de pisos.",
     ["gestionar las reservas telefónicas y por correo electrónico", "resolver las incidencias",
      "coordinarse con el departamento de pisos"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("es", sentence), "duty") == expected


@pytest.mark.parametrize("sentence, expected", [
    ("Debe ser paciente, creativo y responsable.", ["paciente", "creativo", "responsable"]),
    ("Es importante ser puntual y ordenado.", ["puntual", "ordenado"]),
])
def test_listed_traits_become_one_trait_each(sentence: str, expected: list[str]) -> None:
    found = items_of("es", sentence)
    assert texts(found) == expected
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("lines, expected", [
    (["Funciones:", "Registrar facturas de proveedores en el ERP", "Gestión de cobros y pagos",
      "Ofrecemos:", "Contrato indefinido y buen ambiente de trabajo."],
     [("duty", "Registrar facturas de proveedores en el ERP"), ("duty", "Gestión de cobros y pagos")]),
    (["Requisitos:", "Carnet de conducir B", "Persona organizada, responsable y con iniciativa"],
     [("skill", "Carnet de conducir B"), ("skill", "Persona organizada"), ("skill", "responsable"),
      ("skill", "con iniciativa")]),
    (["Requisitos:", "Experiencia en atención al cliente imprescindible", "Valorable inglés",
      "Disponibilidad inmediata"],  # a requirement cue inside a list item does not end the list
     [("skill", "Experiencia en atención al cliente imprescindible"), ("skill", "Valorable inglés"),
      ("skill", "Disponibilidad inmediata")]),
    (["Quiénes somos", "Somos una cadena hotelera con doce establecimientos en Andalucía.",
      "Responsabilidades", "Atender a los huéspedes en la recepción"],
     [("duty", "Atender a los huéspedes en la recepción")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("es", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Hoteles Costa Azul es una cadena familiar con más de 30 años de historia y doce establecimientos.",
    "Somos una empresa líder en el sector de la logística con más de 500 empleados.",
    "La empresa fue fundada en 1995 y tiene oficinas en Madrid y Barcelona.",
    "Con más de 20 años de experiencia, nuestra empresa es referente en el sector.",
    "El salario medio de un recepcionista en España es de 1.200 euros al mes.",
    "El coordinador trabaja como enlace entre los departamentos.",
])
def test_company_descriptions_role_names_and_career_talk_yield_nothing(sentence: str) -> None:
    assert items_of("es", sentence) == []
