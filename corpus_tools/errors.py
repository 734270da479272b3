"""Exception hierarchy of corpus_tools.

Every error the library raises on purpose derives from :class:`CorpusToolsError`, so a
caller can catch the toolkit's errors apart from bugs. Messages say what was wrong, what
was expected and what to do.
"""

from __future__ import annotations


class CorpusToolsError(Exception):
    """Base class of every error corpus_tools raises on purpose."""


class InputError(CorpusToolsError, ValueError):
    """The input is not what a stage accepts (bytes for str, an undecodable file, ...)."""


class EmptyInputError(InputError):
    """The input holds no text at all (0 bytes, whitespace only, no visible text)."""


class NotRegularFileError(InputError):
    """The path is a named pipe, socket, device or folder: it is never opened for reading."""


class ResourceError(CorpusToolsError):
    """A rule file shipped with (or passed to) the toolkit is missing, empty or broken."""


class SchemaError(CorpusToolsError):
    """A table does not have the columns a step needs."""


class IncompleteRunError(CorpusToolsError):
    """An output folder's tables are being replaced by a run (or a run was killed doing
    so): they may come from two runs."""


class ConfigError(CorpusToolsError, ValueError):
    """A configuration value or file is invalid."""


def require_str(text: object, *, what: str = "text") -> str:
    """Return *text* if it is a ``str``; raise :class:`InputError` otherwise.

    >>> require_str("一、总体情况")
    '一、总体情况'
    """
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise InputError(
            f"{what} must be str, got {type(text).__name__}: decode it first, "
            "e.g. with corpus_tools.read_page() or bytes.decode('utf-8')"
        )
    raise InputError(f"{what} must be str, got {type(text).__name__}")
