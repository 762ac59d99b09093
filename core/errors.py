"""One user-facing error type for the whole project.

Every error a user may see is a :class:`FolioError` (or a subclass) whose ``str()`` is one plain
sentence naming the file or thing involved and what to do about it. Each edge turns it into a
message in one place: the CLI prints it to stderr (:func:`app.cli.main`), the web app raises
``gr.Error`` with it (:func:`app.panels.errors.user_errors`). The tree::

    FolioError                    anything the user should read as it is
    ├── DocumentError             one file could not be ingested (``name``, ``reason``)
    │   └── UnsupportedFileError  ... because Folio does not read its type
    ├── IndexMismatchError        the collection was built with another embedder, schema or version
    └── ModelError                a model could not be found, checked or loaded
        ├── HubUnreachableError   (inference.download) the hub could not be reached
        ├── DiskSpaceError        (inference.download) not enough room for the download
        └── VerificationError     (inference.download) the file's size or sha256 is wrong

>>> str(UnsupportedFileError("notes.xyz", "its type .xyz is not supported (use PDF, DOCX, MD, TXT or HTML)"))
'notes.xyz: its type .xyz is not supported (use PDF, DOCX, MD, TXT or HTML).'
"""

from __future__ import annotations


class FolioError(Exception):
    """An error whose message is shown to the user as it is: one sentence naming the file and the fix."""


class DocumentError(FolioError):
    """A file could not be ingested; the message names the file and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason.rstrip(".")
        super().__init__(f"{name}: {self.reason}.")


class UnsupportedFileError(DocumentError):
    """The file's type is not one Folio reads."""


class IndexMismatchError(FolioError):
    """The collection was built with another embedder, schema or version."""


class ModelError(FolioError):
    """A model could not be found, checked or loaded."""
