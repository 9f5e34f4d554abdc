"""Duty and skill extraction: candidates (clauses, list items, enumerations), rules, classifier."""
