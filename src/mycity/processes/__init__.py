"""Processes that follow the log and answer events with events of their own.

Licence issuance on approval, the payee's side of a payment, credit rules and lapse
timers: each is a `Process` subclass here, run by the same runner as the read models.
"""
