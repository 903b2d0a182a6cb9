"""Files a command is given: read, or one line that names the file and what is wrong with
it (not the settings' paths, which the user did not give)."""

from __future__ import annotations

from pathlib import Path

from mycity.cli.app import Failure


def read_text(path: Path, given_to: str | None = None, encoding: str = "utf-8") -> str:
    """The file's text; `given_to` names the option it came with, if any."""
    where = f" (given to {given_to})" if given_to else ""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise Failure(f"no such file: {path}{where}") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise Failure(f"cannot read {path}{where}: {reason}") from None
