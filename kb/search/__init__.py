"""Search: dense and keyword candidates, language-bias correction, rerank, no-match threshold."""
