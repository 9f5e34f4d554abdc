"""The Streamlit front end and its Search page: ``streamlit run app.py``.

Build the knowledge base first (``python -m ingest corpus/ --kb kbdata``); the
app reads $KB_DIR, else ./kbdata. The other pages live in ``pages/`` (Roles,
Compare, Skills, Add articles); every page draws the same sidebar. Search is
one query in any language with filters, highlighted hits and each hit's
sentence in its article.
"""
from __future__ import annotations

import streamlit as st

from kb.search.dense import MAX_QUERY_CHARS
from webapp import support
from webapp import ui

KINDS = ("all", "duty", "skill", "sentence")
EXAMPLES = "manage the executive's calendar · planera möten · koordynator spotkania · quản lý dự án"

support.page_setup("Search")
kb = support.kb_or_stop()
docs = kb.docs()
if not docs:
    st.info("The knowledge base is empty. Add articles on the Add articles page, "
            "or run `python -m ingest corpus/ --kb DIR`.")
    st.stop()
titles = {doc["doc_id"]: ui.doc_label(doc) for doc in docs}

# max_chars bounds typing; a longer ?query= in a link is refused by kb.search (shown as st.error)
query = st.text_input("Query, in any language", key="search_query", placeholder=EXAMPLES, bind="query-params",
                      max_chars=MAX_QUERY_CHARS)
lang_column, kind_column, role_column, k_column = st.columns([1, 1, 2, 1])
lang = lang_column.selectbox("Language", ["all", *sorted({doc["lang"] for doc in docs})], key="search_lang")
kind = kind_column.selectbox("Kind", KINDS, key="search_kind")
role = role_column.selectbox("Role", ["all", *titles], format_func=lambda doc_id: titles.get(doc_id, "all roles"),
                             key="search_role")
k = k_column.number_input("Results", min_value=1, max_value=100, value=10, step=1, key="search_k")

if not query.strip():
    st.info(f"Type what you are looking for, in any language, for example: {EXAMPLES}. "
            "Hits are duties, skills and sentences from every article, whatever its language.")
    st.stop()

hits, milliseconds = support.timed(
    support.run_or_error, kb.search, query, k=int(k), lang=None if lang == "all" else lang, kind=kind,
    doc=None if role == "all" else role)
st.caption(f"Query language: **{support.detect_query_language(query)}** · "
           f"{len(hits)} hits in {milliseconds:.0f} ms")
if not hits:
    filtered = lang != "all" or kind != "all" or role != "all"
    st.info("No good match: nothing in the knowledge base is close enough to this query to count as an answer. "
            + ("Set Language, Kind and Role back to all, or try other words."
               if filtered else "Try other or fewer words."))
    st.stop()

st.download_button("Download results (CSV)", ui.hits_csv(hits), file_name="search_results.csv",
                   mime="text/csv", key="search_download", on_click="ignore")
links = kb.unit_esco([hit.unit_id for hit in hits], support.label_lang())
for hit in hits:
    with st.container(border=True, key=f"hit_{hit.rank}"):
        st.markdown(ui.hit_card_html(hit, links.get(hit.unit_id)), unsafe_allow_html=True)
        with st.expander("Show in the article", key=f"open_{hit.rank}_{hit.unit_id}", on_change="rerun") as article:
            if article.open:
                text = support.run_or_error(kb.article, hit.doc_id)["text"]
                st.markdown(ui.article_context_html(text, hit), unsafe_allow_html=True)
