"""Storage: the SQLite store, its full-text index and the vector index behind one protocol."""
