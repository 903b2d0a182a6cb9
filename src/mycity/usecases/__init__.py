"""The use cases, one module per capability: each command checks the caller, lets the
aggregates decide, and saves their events through the one event store."""
