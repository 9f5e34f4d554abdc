"""Roles page: every article as a card with its ESCO occupation, duties and skills (each with its ESCO
concept), the occupation's essential skills covered or missing, and the highlighted text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from kb.export import csv_bytes
from webapp import support
from webapp import ui

support.page_setup("Roles")
kb = support.kb_or_stop()
label_lang = support.label_lang()
docs = kb.docs(label_lang=label_lang)
if not docs:
    st.info("No articles yet. Add some on the Add articles page, or run `python -m ingest corpus/ --kb DIR`.")
    st.stop()

languages = sorted({doc["lang"] for doc in docs})
chosen = st.multiselect("Languages", languages, default=languages, key="roles_langs")
confidence_column, esco_column = st.columns(2)
min_confidence = confidence_column.slider(
    "Minimum confidence", 0.0, 1.0, 0.0, 0.05, key="roles_min_confidence",
    help="Hide the duties and skills the extractor is less sure of (a calibrated probability); "
         f"items under {ui.LOW_CONFIDENCE:.1f} are marked as low confidence.")
min_esco_score = esco_column.slider(ui.MIN_ESCO_SCORE, 0.0, 1.0, 0.0, 0.05, key="roles_min_esco_score",
                                    help=ui.MIN_ESCO_SCORE_HELP)
items = support.run_or_error(kb.items, label_lang=label_lang, min_confidence=min_confidence,
                             min_esco_score=min_esco_score)
by_doc: dict[str, list[dict]] = {}
for item in items:
    by_doc.setdefault(item["doc_id"], []).append(item)


def essential_skills(doc_id: str) -> None:
    """The occupation's essential skills: which the article covers (with the sentence), the gaps, a download."""
    profile = support.run_or_error(kb.role, doc_id, label_lang=label_lang)
    if not profile["occupations"]:
        st.info("No ESCO occupation fits this article, so there are no essential skills to hold it against.")
        return
    if not profile["essential"]:
        st.info(f"ESCO lists no essential skills for {profile['occupations'][0]['esco_label']}.")
        return
    rows = ui.essential_rows(profile)
    st.caption(f"{sum(row['covered'] for row in rows)} of {len(rows)} essential skills of "
               f"**{profile['occupations'][0]['esco_label']}** covered; {len(profile['gaps'])} gaps.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"essential_{doc_id}")
    st.download_button("Download essential skills and gaps (CSV)", csv_bytes(rows, list(rows[0])),
                       file_name="essential_skills.csv", mime="text/csv", key=f"gaps_download_{doc_id}",
                       on_click="ignore")


st.markdown(ui.legend_html(), unsafe_allow_html=True)
for doc in docs:
    if doc["lang"] not in chosen:
        continue
    doc_items = by_doc.get(doc["doc_id"], [])
    with st.container(border=True, key=f"role_{doc['doc_id']}"):
        note = f"{doc['lang']} · {doc['duties']} duties · {doc['skills']} skills · {doc['doc_id']}"
        st.markdown(ui.heading_html(doc["title"], 3, note), unsafe_allow_html=True)
        st.caption(ui.occupation_note(doc))
        duties_column, skills_column = st.columns(2)
        with duties_column:
            st.markdown("**Duties**")
            st.markdown(ui.items_html(item for item in doc_items if item["kind"] == "duty"), unsafe_allow_html=True)
        with skills_column:
            st.markdown("**Skills**")
            groups = ui.group_skills(doc_items)
            if not groups:
                st.markdown(ui.items_html([]), unsafe_allow_html=True)
            for subtype, members in groups.items():
                st.markdown(ui.heading_html(subtype, 5) + ui.items_html(members), unsafe_allow_html=True)
        with st.expander("ESCO essential skills: covered and gaps", key=f"esco_{doc['doc_id']}",
                         on_change="rerun") as esco:
            if esco.open:
                essential_skills(doc["doc_id"])
        with st.expander("Full text", key=f"text_{doc['doc_id']}", on_change="rerun") as full_text:
            if full_text.open:
                text = support.run_or_error(kb.article, doc["doc_id"])["text"]
                st.markdown(ui.article_items_html(text, doc_items), unsafe_allow_html=True)
