"""Renderers: pure functions of the report model (text for a terminal, JSONL, CSV, Gradescope, JUnit)."""
