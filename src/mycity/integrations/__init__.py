"""Adapters to the outside world, each behind a small interface with a working local version."""
