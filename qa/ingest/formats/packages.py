"""Checks shared by the formats that are zip packages (.docx, .pptx, .xlsx, .epub).

A damaged, encrypted or oversized package is refused with a reason a person can act on before
any parser touches it, and an optional library that is not installed names its install command.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from types import ModuleType

from ...errors import DocumentError

OFFICE_INSTALL = "pip install 'grounded-qa[office]'"

# Office files compress text about 5-20x; a package that declares more than this much content
# uncompressed is a zip bomb or not a document, and is refused before it is unpacked.
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 200

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def require(module: str, package: str, purpose: str, install: str = OFFICE_INSTALL) -> ModuleType:
    """Import an optional library, or refuse the file naming the install command.

    >>> require("no_such_module_xyz", "xyz", "reading .xyz files").__name__
    Traceback (most recent call last):
    ...
    qa.errors.DocumentError: reading .xyz files needs xyz, which is not installed: pip install 'grounded-qa[office]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DocumentError(f"{purpose} needs {package}, which is not installed: {install}") from None


def check_package(data: bytes, kind: str, *, saved_as: str) -> None:
    """Refuse what is not a readable zip package of ``kind`` (e.g. "Word document").

    ``saved_as`` is the extension to suggest (".docx") for an old binary or encrypted file.
    """
    if data.startswith(_OLE_MAGIC):
        # Office encrypts a password-protected file into an OLE container, the same container
        # the pre-2007 binary formats (.doc, .xls, .ppt) use.
        raise DocumentError(
            f"password-protected (or old binary format) {kind}; remove the password, or save it as {saved_as}, and add it again"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            declared = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"damaged {kind} (not a readable zip package: {exc}); open and save it again") from None
    if declared > MAX_UNPACKED_BYTES or declared > MAX_RATIO * max(len(data), 1 << 20):
        raise DocumentError(
            f"{kind} would unpack to {declared / 1e6:,.0f} MB from {len(data) / 1e6:,.1f} MB (a zip bomb?); not read"
        )
