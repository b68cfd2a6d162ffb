"""Checklists: YAML model, probe types, parallel runner."""
