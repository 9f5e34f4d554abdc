"""Embedding: the sentence encoders and the e5 token states."""
