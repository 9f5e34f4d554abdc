"""Skills page: the extracted skills across roles, filters, a frequency chart and downloads."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from webapp import support
from webapp import ui
from kb.export import MEDIA_TYPES, export_bytes
from kb.records import SKILL_SUBTYPES

DOWNLOADS = (("csv", "CSV"), ("json", "JSON"), ("jsonl", "JSON (lines)"), ("xlsx", "Excel"))

support.page_setup("Skills")
kb = support.kb_or_stop()
docs = {doc["doc_id"]: doc for doc in kb.docs()}
if not docs:
    st.info("No articles yet. Add some on the Add articles page.")
    st.stop()

lang_column, subtype_column, role_column, top_column = st.columns([1, 1, 2, 1])
lang = lang_column.selectbox("Language", ["all", *sorted({doc["lang"] for doc in docs.values()})], key="skills_lang")
subtype = subtype_column.selectbox("Subtype", ["all", *SKILL_SUBTYPES], key="skills_subtype")
role = role_column.selectbox("Role", ["all", *docs], key="skills_role",
                             format_func=lambda doc_id: ui.doc_label(docs[doc_id]) if doc_id in docs else "all roles")
top = top_column.number_input("Chart: top", min_value=5, max_value=100, value=20, step=5, key="skills_top")

groups = support.run_or_error(kb.skills, lang=None if lang == "all" else lang,
                                  subtype=None if subtype == "all" else subtype)
rows = ui.skill_rows(groups, doc_id=None if role == "all" else role)
if not rows:
    st.info("No skills match these filters. Set Language, Subtype or Role back to all.")
    st.stop()

table = pd.DataFrame(rows)
st.caption(f"{len(table)} skills")
chart = alt.Chart(table.head(int(top))).mark_bar().encode(
    x=alt.X("roles:Q", title="roles that mention it", axis=alt.Axis(tickMinStep=1, format="d")),
    y=alt.Y("skill:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
    color=alt.Color("subtype:N"),
    tooltip=["skill", "subtype", "roles", "languages", "mentions"],
)
st.altair_chart(chart, width="stretch")
st.dataframe(table, hide_index=True, width="stretch", key="skills_table")

st.subheader("Download")
st.caption("The extracted skills with the filters above (language, role), exactly as "
           "`python -m kb export` writes them.")
export_filters = {"kind": "skill", "lang": None if lang == "all" else lang, "doc": None if role == "all" else role}
columns = st.columns(len(DOWNLOADS))
for column, (fmt, label) in zip(columns, DOWNLOADS):
    data = support.run_or_error(export_bytes, kb, fmt, **export_filters)
    column.download_button(f"Download {label}", data, file_name=f"skills.{fmt}", mime=MEDIA_TYPES[fmt],
                           key=f"skills_download_{fmt}", on_click="ignore")
