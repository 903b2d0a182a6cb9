"""The verifier is vendored by partners: it must import only the standard library and
`cryptography`, never the server's settings, database or web stack."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "src"

# Run in a fresh interpreter, so that nothing the test run imported hides an import.
PROBE = """
import json, sys
before = set(sys.modules)
import mycity
package = set(sys.modules) - before
import mycity.verifier.checkpoint, mycity.verifier.merkle
import mycity.verifier.note, mycity.verifier.records, mycity.verifier.proofs
import mycity.verifier.licence, mycity.verifier.city_code
print(json.dumps({"package": sorted(package), "verifier": sorted(set(sys.modules) - before)}))
"""

# cryptography's own: its cffi backend and the `_openssl` module its Rust bindings register.
CRYPTOGRAPHY = {"cryptography", "cffi", "_cffi_backend", "_openssl"}
FORBIDDEN = {"mycity.settings", "eventsourcing", "psycopg", "strawberry", "starlette"}


@functools.cache
def imported_modules() -> dict[str, list[str]]:
    path = os.pathsep.join(filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    modules: dict[str, list[str]] = json.loads(result.stdout)
    return modules


def test_the_mycity_package_itself_imports_nothing() -> None:
    assert imported_modules()["package"] == ["mycity"]


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    modules = imported_modules()["verifier"]
    foreign = [
        name
        for name in modules
        if name.split(".")[0] not in sys.stdlib_module_names | CRYPTOGRAPHY
        and name not in ("mycity", "mycity.verifier")
        and not name.startswith("mycity.verifier.")
    ]
    assert foreign == []
    assert "mycity.verifier.note" in modules
    assert "mycity.verifier.licence_status" in modules
    assert "mycity.verifier.city_code_keys" in modules
    assert [name for name in modules if {name, name.split(".")[0]} & FORBIDDEN] == []
