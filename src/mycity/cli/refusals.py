"""The REFUSED line of a verifying command: `REFUSED: <reason>: <what it means>`, the reason
spelt as the verifier and its document name it (docs/licences.md §7, docs/city-code.md §5),
then what to do where something can be done."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mycity.verifier.city_code import CodeVerdict
from mycity.verifier.city_code import Reason as CodeReason
from mycity.verifier.licence import Reason, Verdict
from mycity.verifier.proofs import ConsistencyProof, InclusionProof, Proof
from mycity.verifier.proofs import Reason as ProofReason
from mycity.verifier.records import record_position

STATUS_LIST = "GET /licences/status/{issuer}"
LICENCE = {
    Reason.MALFORMED: "not a licence presentation (LC2:… or LC1:…) as the city makes it: damaged "
    "or cut short",
    Reason.UNKNOWN_KEY: "{it} is signed with a key the trust list does not hold: fetch the "
    "list again (GET /licences/keys), or it is not this city's",
    Reason.WRONG_KEY: "{it} is signed with a key that may not sign it: forged",
    Reason.BAD_SIGNATURE: "{it} does not verify: forged or altered",
    Reason.FIELD_MISMATCH: "a field shown is not what the department signed: altered",
    Reason.TOO_LONG_LIVED: "it claims to live over 5 minutes, as no presentation does: forged",
    Reason.NOT_YET_VALID: "{it} was signed after this machine's time: check this machine's clock",
    Reason.EXPIRED: "the presentation expired at {expired} (it lives 5 minutes): ask the holder "
    "to show a new one",
    Reason.LICENCE_NOT_YET_VALID: "the licence is valid from {valid_from}",
    Reason.LICENCE_EXPIRED: "the licence expired after {valid_until}",
    Reason.STATUS_UNKNOWN: "no status list given says this licence's status: fetch its "
    f"issuer's ({STATUS_LIST}) and pass it with --status-list",
    Reason.STATUS_STALE: "the status list of {issuer} is out of date: fetch it again "
    f"({STATUS_LIST})",
    Reason.REVOKED: "the licence is revoked",
    Reason.SUSPENDED: "the licence is suspended",
    Reason.REPLAYED: "this presentation was shown before",
}
CITY_CODE = {
    CodeReason.MALFORMED: "not a city code (MC1:…) as the city makes it: damaged or cut short",
    CodeReason.WITHDRAWN_KEY: "signed with a key the city has withdrawn: do not trust it",
    CodeReason.UNKNOWN_KEY: "signed with a key these keys do not hold: fetch them again "
    "(GET /city-code/keys), or it is not this city's",
    CodeReason.BAD_SIGNATURE: "the signature does not verify: forged or altered",
    CodeReason.NOT_YET_VALID: "made after this machine's time: check this machine's clock",
    CodeReason.EXPIRED: "it expired at {expired}: ask the holder to show a fresh one",
}

PROOF = {
    ProofReason.BAD_PROOF: "{its_hashes}: the proof, the record or a root was altered",
    ProofReason.WRONG_POSITION: "the record proven is the event at position {recorded}, not "
    "{position}",
    ProofReason.BAD_SIGNATURE: "the checkpoint in {checkpoint} is not signed by the key given, "
    "or is another log's: the log's keys are what `mycity audit key` prints",
    ProofReason.SIZE_MISMATCH: "the checkpoint in {checkpoint} is of {size} events, the proof of "
    "{sizes}: ask for the proof at that size (`audit prove POSITION --size {size}`, `audit "
    "consistency OLD {size}`)",
    ProofReason.ROOT_MISMATCH: "the checkpoint in {checkpoint} has another root for {size} "
    "events: the log was rewritten after it was signed, or the proof was altered",
}


def licence_refused(verdict: Verdict) -> str:
    credential = verdict.licence
    return _line(
        verdict.reason,
        LICENCE[verdict.reason],
        it="the presentation",
        expired=_moment(verdict.expires_at),
        issuer=credential.issuer if credential else None,
        valid_from=credential.valid_from if credential else None,
        valid_until=credential.valid_until if credential else None,
    )


def status_list_refused(reason: Reason, file: str, issuer: str | None) -> str:
    """A status list that cannot be used (its issuer is known once its signature holds)."""
    return _line(reason, LICENCE[reason], it=f"the status list in {file}", issuer=issuer)


def code_refused(verdict: CodeVerdict) -> str:
    return _line(verdict.reason, CITY_CODE[verdict.reason], expired=_moment(verdict.expires_at))


def proof_refused(
    reason: ProofReason, proof: Proof, checkpoint: Path | str | None, size: int | None
) -> str:
    if isinstance(proof, InclusionProof):
        its_hashes = (
            f"its audit path does not lead from the record (leaf {proof.leaf_index}) to the "
            f"root of the tree of {proof.tree_size} events"
        )
        sizes, position = f"{proof.tree_size}", proof.position
        recorded = record_position(proof.record)
    else:
        assert isinstance(proof, ConsistencyProof)
        its_hashes = (
            f"its hashes do not lead from the root of {proof.from_size} events to the root of "
            f"{proof.to_size}"
        )
        sizes, position, recorded = f"{proof.from_size} and {proof.to_size}", None, None
    return _line(
        reason,
        PROOF[reason],
        its_hashes=its_hashes,
        sizes=sizes,
        position=position,
        recorded=recorded,
        checkpoint=checkpoint,
        size=size,
    )


def _line(reason: Reason | CodeReason | ProofReason, meaning: str, **facts: object) -> str:
    return f"REFUSED: {reason.value}: {meaning.format(**facts)}"


def _moment(unix: int | None) -> str | None:
    return None if unix is None else f"{datetime.fromtimestamp(unix, UTC):%Y-%m-%d %H:%M:%S}Z"
