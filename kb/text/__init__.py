"""Text utilities both sides share: language identification, tokens and lemmas."""
