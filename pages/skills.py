"""Skills page: the extracted skills (or the ESCO concepts they link to) across roles and languages, filters,
a frequency chart and downloads."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from webapp import support
from webapp import ui
from kb.export import MEDIA_TYPES, export_bytes
from kb.records import SKILL_SUBTYPES

DOWNLOADS = (("csv", "CSV"), ("json", "JSON"), ("jsonl", "JSON (lines)"), ("xlsx", "Excel"))
BY = ("skill groups", "ESCO concepts")

support.page_setup("Skills")
kb = support.kb_or_stop()
docs = {doc["doc_id"]: doc for doc in kb.docs()}
if not docs:
    st.info("No articles yet. Add some on the Add articles page.")
    st.stop()

by_esco = st.radio("Count", BY, horizontal=True, key="skills_by") == BY[1]
lang_column, subtype_column, role_column, top_column = st.columns([1, 1, 2, 1])
lang = lang_column.selectbox("Language", ["all", *sorted({doc["lang"] for doc in docs.values()})], key="skills_lang")
subtype = subtype_column.selectbox("Subtype", ["all", *SKILL_SUBTYPES], key="skills_subtype", disabled=by_esco,
                                   help="ESCO concepts are counted over every subtype" if by_esco else None)
role = role_column.selectbox("Role", ["all", *docs], key="skills_role",
                             format_func=lambda doc_id: ui.doc_label(docs[doc_id]) if doc_id in docs else "all roles")
top = top_column.number_input("Chart: top", min_value=5, max_value=100, value=20, step=5, key="skills_top")
min_esco_score = st.slider(ui.MIN_ESCO_SCORE, 0.0, 1.0, 0.0, 0.05, key="skills_min_esco_score",
                           help=ui.MIN_ESCO_SCORE_HELP)
lang, role, label_lang = None if lang == "all" else lang, None if role == "all" else role, support.label_lang()

if by_esco:
    rows = ui.esco_concept_rows(support.run_or_error(kb.esco_skills, lang=lang, label_lang=label_lang, doc=role,
                                                     min_esco_score=min_esco_score))
    name, colour, empty = "concept", "type", ("No duty or skill here is linked to an ESCO concept" + (
        "; set Language or Role back to all." if lang or role else
        " (links are made at ingest with the default e5 embedder)."))
else:
    groups = support.run_or_error(kb.skills, lang=lang, subtype=None if subtype == "all" else subtype)
    rows = ui.skill_rows(groups, doc_id=role)
    name, colour, empty = "skill", "subtype", "No skills match these filters. Set Language, Subtype or Role back to all."
if not rows:
    st.info(empty)
    st.stop()

table = pd.DataFrame(rows)
st.caption(f"{len(table)} {'ESCO concepts' if by_esco else 'skills'}")
chart = alt.Chart(table.head(int(top))).mark_bar().encode(
    x=alt.X("roles:Q", title="roles that mention it", axis=alt.Axis(tickMinStep=1, format="d")),
    y=alt.Y(f"{name}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
    color=alt.Color(f"{colour}:N"),
    tooltip=list(table.columns),
)
st.altair_chart(chart, width="stretch")
st.dataframe(table, hide_index=True, width="stretch", key="skills_table")

st.subheader("Download")
st.caption("The extracted skills with the filters above (language, role, minimum ESCO score) and their ESCO "
           "concepts (labels in the sidebar's language), exactly as `python -m kb export` writes them.")
export_filters = {"kind": "skill", "lang": lang, "doc": role, "label_lang": label_lang,
                  "min_esco_score": min_esco_score}
columns = st.columns(len(DOWNLOADS))
for column, (fmt, label) in zip(columns, DOWNLOADS):
    data = support.run_or_error(export_bytes, kb, fmt, **export_filters)
    column.download_button(f"Download {label}", data, file_name=f"skills.{fmt}", mime=MEDIA_TYPES[fmt],
                           key=f"skills_download_{fmt}", on_click="ignore")
