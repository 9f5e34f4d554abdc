"""Compare page: role-by-role similarity heatmap, aligned shared duties, the ESCO concepts both roles are
linked to, and what is unique to each."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from webapp import support
from webapp import ui

support.page_setup("Compare")
kb = support.kb_or_stop()
docs = {doc["doc_id"]: doc for doc in kb.docs()}
if len(docs) < 2:
    st.info("Comparing needs at least two articles. Add more on the Add articles page.")
    st.stop()

labels = {doc_id: f"{number}. {ui.short_label(doc)}" for number, (doc_id, doc) in enumerate(docs.items(), 1)}
chosen = st.multiselect("Roles to compare (any languages)", list(docs), format_func=lambda doc_id: labels[doc_id],
                        key="compare_docs", placeholder="Pick two or more roles")
if len(chosen) < 2:
    st.info("Pick two or more roles, for example a Swedish and a Polish coordinator role.")
    st.stop()

with st.spinner("Comparing the roles (the first comparison embeds every duty once)..."):
    result = support.run_or_error(kb.compare, *chosen, label_lang=support.label_lang())
ids = result["docs"]
cells = pd.DataFrame([{"a": labels[a], "b": labels[b], "similarity": float(result["similarity"][i][j]), "same": i == j}
                      for i, a in enumerate(ids) for j, b in enumerate(ids)])
others = cells[~cells["same"]]["similarity"]
low, high = others.min(), max(others.max(), others.min() + 0.1)  # at least 0.1 wide: no exaggerated contrast
order = [labels[doc_id] for doc_id in ids]
# The diagonal (1.0) is left grey so that the colour scale spans only the role-to-role values.
base = alt.Chart(cells).encode(
    x=alt.X("b:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
    y=alt.Y("a:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
    tooltip=["a", "b", alt.Tooltip("similarity:Q", format=".3f")],
)
rectangles = base.mark_rect().encode(color=alt.condition(
    "datum.same", alt.value("#eeeeee"),
    alt.Color("similarity:Q", title="similarity", scale=alt.Scale(scheme="blues", domain=[low, high]))))
numbers = base.transform_filter("!datum.same").mark_text(fontSize=13).encode(
    text=alt.Text("similarity:Q", format=".3f"), color=alt.value("black"))
st.subheader("Similarity")
st.altair_chart(rectangles + numbers, width="stretch", height=80 + 48 * len(ids))

pairs = result["pairs"]
if not pairs:
    st.info("No pairs to show.")
    st.stop()
with_shared = [n for n, pair in enumerate(pairs) if pair["shared"]]
number = st.selectbox("Pair", range(len(pairs)), index=with_shared[0] if with_shared else 0, key="compare_pair",
                      format_func=lambda n: f"{labels[pairs[n]['a']]}  ↔  {labels[pairs[n]['b']]}  "
                                            f"(similarity {pairs[n]['similarity']:.2f}, "
                                            f"{len(pairs[n]['shared'])} shared "
                                            f"{'duty' if len(pairs[n]['shared']) == 1 else 'duties'})")
pair = pairs[number]
name_a, name_b = docs[pair["a"]]["title"], docs[pair["b"]]["title"]

text_column, esco_column = st.columns(2)
text_column.metric("Text similarity", f"{pair['similarity']:.2f}")
esco_column.metric("Shared ESCO concepts", len(pair["shared_esco"]))
if pair["shared_esco"]:
    shared = pd.DataFrame(ui.shared_concept_rows(pair["shared_esco"])).rename(
        columns={"first role": labels[pair["a"]], "second role": labels[pair["b"]]})
    st.dataframe(shared, hide_index=True, width="stretch", key="compare_esco")
else:
    st.info("These two roles have no ESCO concept in common (none of their duties and skills link to the same one).")

st.subheader("Shared duties")
if pair["shared"]:
    st.markdown(ui.shared_table_html(pair["shared"], name_a, name_b), unsafe_allow_html=True)
else:
    st.info("These two roles share no duties above the similarity threshold.")

st.subheader("Unique to each")
groups = support.run_or_error(kb.skills)
for column, doc_id, other_id, duties in zip(st.columns(2), (pair["a"], pair["b"]), (pair["b"], pair["a"]),
                                            (pair["unique_a"], pair["unique_b"])):
    with column:
        st.markdown(ui.heading_html(docs[doc_id]["title"], 4, docs[doc_id]["lang"]), unsafe_allow_html=True)
        st.markdown("**Duties only here**")
        st.markdown(ui.list_html(duties), unsafe_allow_html=True)
        st.markdown("**Skills only here**")
        st.markdown(ui.list_html(ui.unique_skills(groups, doc_id, other_id)), unsafe_allow_html=True)
