"""Guidance for the interview: the knowledge documents, offline embeddings, Chroma ingest and hybrid search."""
