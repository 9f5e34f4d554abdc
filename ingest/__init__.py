"""Ingestion: read role articles, detect languages, split sentences, extract duties and skills."""
