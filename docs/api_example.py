"""The Python API in a notebook: search, items, skills, compare and export (run after `make ingest`)."""
from kb import KnowledgeBase

kb = KnowledgeBase.open()  # the folder $KB_DIR, else ./kbdata; or KnowledgeBase.open("kbdata")

for hit in kb.search("organise travel for the director", k=3):  # any language, across languages
    print(f"{hit.score:.3f} [{hit.lang} {hit.kind}] {hit.doc_id}: {hit.text}")

duties = kb.items(kind="duty", lang="sv")  # list of dicts: doc_id, title, lang, kind, subtype, text, sentence, ...
print(len(duties), "Swedish duties, e.g.", duties[0]["text"])
coded = [item for item in kb.items(kind="skill", min_esco_score=0.9) if item["esco_uri"]]  # surest ESCO links
print(len(coded), "skills linked to ESCO at 0.9 or more, e.g.", [item["esco_label"] for item in coded[:3]])

for group in kb.skills(top=5):  # skill groups across roles and languages
    print(group["label"], group["subtype"], group["roles"], "roles", group["languages"], group["members"])

docs = [doc["doc_id"] for doc in kb.docs()]
result = kb.compare(docs[0], docs[1])  # a Swedish and a Polish role work too
pair = result["pairs"][0]
print(pair["a"], pair["b"], pair["similarity"], [(s["a_text"], s["b_text"]) for s in pair["shared"]])

path = kb.export("items.xlsx", format="xlsx", kind="skill")  # or .csv, .json, .jsonl, .parquet
print("wrote", path)
kb.close()
