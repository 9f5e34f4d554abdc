"""Add articles page: upload .txt/.md/.html files and ingest them through the same pipeline."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from webapp import support


def show_results(results: list[dict]) -> None:
    """One message per file, then the results table."""
    for row in results:
        if row["status"] in ("added", "updated"):
            done = "added as" if row["status"] == "added" else "updated your earlier upload"
            st.success(f"{row['file']}: {done} {row['doc_id']} (language {row['language']}, "
                       f"{row['sentences']} sentences, {row['items']} duties and skills)")
        elif row["status"] == "unchanged":
            st.info(f"{row['file']}: {row['reason']} ({row['doc_id']})")
        else:
            st.error(f"{row['file']}: {row['status']}: {row['reason']}")
    st.dataframe(pd.DataFrame(results), hide_index=True, width="stretch", key="upload_table")


support.page_setup("Add articles")
folder = support.kb_dir()
st.caption(f"Files are saved under `{folder / support.UPLOADS_FOLDER}` and ingested into `{folder}` "
           "with the same pipeline as `python -m ingest`; the other pages see them at once. An upload is "
           f"document `{support.UPLOAD_PREFIX}<file name>`: it never replaces an article of the corpus, only "
           "your earlier upload of the same name. A file the knowledge base refuses is not kept.")

files = st.file_uploader("Job descriptions (.txt, .md, .html), in any language", type=list(support.UPLOAD_TYPES),
                         accept_multiple_files=True, key="upload_files")
if st.button("Add to the knowledge base", type="primary", key="upload_ingest", disabled=not files):
    support.run_or_error(support.ensure_kb, folder)
    uploads = support.save_uploads(folder, files)
    progress = st.progress(0.0, text="Starting…")
    st.session_state["upload_results"] = support.ingest_uploads(
        folder, uploads,
        lambda number, path: progress.progress(number / len(uploads), text=f"Ingesting {path.name}…"))
    progress.progress(1.0, text="Done")
    st.rerun()  # so that the sidebar counts include the new articles

if "upload_results" in st.session_state:
    show_results(st.session_state["upload_results"])
elif not files:
    st.info("Choose one or more files, then press Add to the knowledge base.")
