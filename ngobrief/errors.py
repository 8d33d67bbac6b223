"""Errors a user can act on: each names the file, row, column and value at fault."""

from __future__ import annotations


class NgobriefError(Exception):
    """Base class: the message is meant for the user, not a stack trace."""

    exit_code = 2


class RenderError(NgobriefError):
    """A brief that would not render cleanly (a missing glyph or image, an --out that is not a brief)."""


class InputError(NgobriefError):
    """A source file that cannot be read as what it claims to be."""

    def __init__(self, file, message: str, *, row: int | None = None,
                 column: str | None = None, value: object = None, hint: str | None = None):
        self.file, self.row, self.column, self.value, self.hint = str(file), row, column, value, hint
        self.message = message
        where = [f"file {self.file}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {str(value)!r}")
        text = f"{', '.join(where)}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ManifestError(NgobriefError):
    """The data manifest and the snapshot files it lists do not agree."""


class WarehouseMissingError(NgobriefError):
    """There is no warehouse file yet where one is to be read."""


class WarehouseBusyError(NgobriefError):
    """Another process holds the warehouse lock."""

    exit_code = 3


class PublishingBlocked(NgobriefError):
    """Validation found errors: no brief may be published from these figures."""

    exit_code = 1


class FetchError(NgobriefError):
    """A URL could not be fetched (no network, a server error): nothing was changed."""


class OutputError(NgobriefError):
    """A folder or file to be written cannot be: read-only, full, or not ours to write."""


def os_error_message(exc: OSError, path=None) -> str:
    """An OSError as one line naming the path: 'cannot write /x/briefs: No space left on device'."""
    where = path or exc.filename or "a file"
    why = exc.strerror or str(exc)
    return (f"cannot write {where}: {why} (free some space, or point NGOBRIEF_OUTPUTS / --warehouse "
            "at a folder that can be written)")
