"""Streamlit helpers for app.py and pages/: state, widgets, rendering."""
