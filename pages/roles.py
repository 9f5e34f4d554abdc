"""Roles page: every article as a card with its duties, skills by subtype and highlighted text."""
from __future__ import annotations

import streamlit as st

from webapp import support
from webapp import ui

support.page_setup("Roles")
kb = support.kb_or_stop()
docs = kb.docs()
if not docs:
    st.info("No articles yet. Add some on the Add articles page, or run `python -m ingest corpus/ --kb DIR`.")
    st.stop()

languages = sorted({doc["lang"] for doc in docs})
chosen = st.multiselect("Languages", languages, default=languages, key="roles_langs")
items = support.run_or_error(kb.items)
by_doc: dict[str, list[dict]] = {}
for item in items:
    by_doc.setdefault(item["doc_id"], []).append(item)

st.markdown(ui.legend_html(), unsafe_allow_html=True)
for doc in docs:
    if doc["lang"] not in chosen:
        continue
    doc_items = by_doc.get(doc["doc_id"], [])
    with st.container(border=True, key=f"role_{doc['doc_id']}"):
        note = f"{doc['lang']} · {doc['duties']} duties · {doc['skills']} skills · {doc['doc_id']}"
        st.markdown(ui.heading_html(doc["title"], 3, note), unsafe_allow_html=True)
        duties_column, skills_column = st.columns(2)
        with duties_column:
            st.markdown("**Duties**")
            duties = [item["text"] for item in doc_items if item["kind"] == "duty"]
            st.markdown(ui.list_html(duties), unsafe_allow_html=True)
        with skills_column:
            st.markdown("**Skills**")
            groups = ui.group_skills(doc_items)
            if not groups:
                st.markdown(ui.list_html([]), unsafe_allow_html=True)
            for subtype, texts in groups.items():
                st.markdown(ui.heading_html(subtype, 5) + ui.list_html(texts), unsafe_allow_html=True)
        with st.expander("Full text", key=f"text_{doc['doc_id']}", on_change="rerun") as full_text:
            if full_text.open:
                text = support.run_or_error(kb.article, doc["doc_id"])["text"]
                st.markdown(ui.article_items_html(text, doc_items), unsafe_allow_html=True)
