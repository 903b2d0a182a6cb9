"""The citizen and enterprise files: aggregates, their events and their rules. No I/O."""
