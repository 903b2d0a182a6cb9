"""Reads of personal data, one module per capability, all through one door (`door.py`)."""
