"""The one event store (one eventsourcing `Application`), its group commit, our SQL."""
