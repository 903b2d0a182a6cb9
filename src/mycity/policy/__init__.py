"""Authorisation: which role may see or do what, one module per capability.

Each rule is a small function of the caller (a `Principal`) and what they ask about. The
use cases ask the rules before they act, and every read of someone's personal data asks
one through the read door (`mycity.reads.door`), which also records the access. Rules that
are facts of a file (only an enterprise's legal representative manages its agents) live on
the aggregate itself.
"""
