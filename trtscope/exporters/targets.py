"""Where an export may be written: what ``--force`` replaces (only a previous trtscope export) and how.

A refusal touches nothing. ``--force`` replaces

* a directory export (csv, parquet) only when it is one trtscope wrote — its ``summary.json`` names the export
  schema — and holds nothing but the files that summary lists (a file a user put inside is never deleted);
* a single-file export (json, chrome-trace) only when the file is one trtscope wrote: a JSON export starts with
  its schema, a Chrome trace (plain or gzip) ends with ``"otherData":{"generator":"trtscope …``.

A link at the output path is refused (never followed). The writes themselves are :mod:`trtscope.atomic`'s.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import zlib
from pathlib import Path

from trtscope.atomic import TAG, check_writable, clean_leftovers, ensure_parent, refuse_symlink
from trtscope.errors import InputError, OutputError
from trtscope.parsers.files import open_input, read_input

#: ``schema`` of summary.json (csv/parquet) and of the JSON document.
SCHEMA = "trtscope-export/1"
SCHEMA_PREFIX = "trtscope-export/"
SUMMARY_FILE = "summary.json"
_JSON_HEAD = b'{"schema":"' + SCHEMA_PREFIX.encode()
_TRACE_HEAD = b'{"traceEvents":['
#: The first line of an NVTXT file trtscope wrote (exporters/nvtxt.py)
NVTXT_HEAD = b"# NVTXT written by trtscope "
_TRACE_MARK = b'],"otherData":{"generator":"trtscope '
_TAIL = 1024**2  # the trace's otherData (sources list included) fits in this


def _regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def _read_summary(d: Path) -> dict[str, object] | None:
    p = d / SUMMARY_FILE
    if not _regular(p):
        return None
    try:
        doc = json.loads(read_input(p, max_bytes=256 * 1024**2))
    except (InputError, ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and str(doc.get("schema", "")).startswith(SCHEMA_PREFIX):
        return doc
    return None


def is_export_dir(d: Path) -> bool:
    """An empty directory, or a previous directory export holding only the files its summary lists."""
    if d.is_symlink() or not d.is_dir():
        return False
    names = {n for n in os.listdir(d) if TAG not in n}
    if not names:
        return True
    doc = _read_summary(d)
    if doc is None:
        return False
    index = doc.get("table_index")
    listed = {SUMMARY_FILE}
    if isinstance(index, dict):
        listed |= {str(e.get("file")) for e in index.values() if isinstance(e, dict) and e.get("file")}
    return names <= listed


def _trace_tail(p: Path) -> bytes:
    """The last bytes of a (possibly gzip-compressed) file: where a Chrome trace keeps its otherData."""
    with open_input(p, "an export") as fh:
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            tail = b""
            with gzip.GzipFile(fileobj=fh) as gz:
                while chunk := gz.read(_TAIL):
                    tail = (tail + chunk)[-_TAIL:]
            return tail
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, size - _TAIL))
        return fh.read()


def _head(p: Path) -> bytes:
    with open_input(p, "an export") as fh:
        head = fh.read(64)
        if head[:2] == b"\x1f\x8b":
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh) as gz:
                return gz.read(64)
        return head


def is_export_file(p: Path) -> bool:
    """A file an earlier ``trtscope export`` wrote (JSON document, Chrome trace plain or gzip, NVTXT)."""
    if not _regular(p):
        return False
    try:
        head = _head(p)
        if head.startswith((_JSON_HEAD, NVTXT_HEAD)):
            return True
        return head.startswith(_TRACE_HEAD) and _TRACE_MARK in _trace_tail(p)
    except (InputError, OSError, EOFError, zlib.error):
        return False


def check_dir_target(out: Path, *, force: bool, parent: bool = True) -> None:
    """Refuse to overwrite without ``force``; even with it, replace only a previous trtscope export."""
    clean_leftovers(out)
    refuse_symlink(out)
    if out.exists() and not out.is_dir():
        if not force:
            raise OutputError(out, "already exists; pass --force to overwrite it")
        raise OutputError(out, "is not a directory; csv and parquet exports write a directory of files")
    if out.is_dir() and any(n for n in os.listdir(out) if TAG not in n):
        if not force:
            raise OutputError(out, "already exists; pass --force to overwrite it")
        if not is_export_dir(out):
            raise OutputError(out, "is a non-empty directory that is not a trtscope export (or holds files the "
                                   "export did not write); refusing to overwrite it")
    if parent:
        ensure_parent(out)


def check_file_target(out: Path, *, force: bool, parent: bool = True) -> None:
    """A file output: never a directory; an existing file only with ``force`` and only a previous export."""
    if out.is_dir() and not out.is_symlink():
        raise OutputError(out, "is a directory; give a file name for this format")
    check_writable(out, force=force, is_ours=is_export_file, what="previous trtscope export", parent=parent)


def check_target(out: Path, *, directory: bool, force: bool, parent: bool = True) -> None:
    """:func:`check_dir_target` or :func:`check_file_target` (``parent``: create the parent directory)."""
    (check_dir_target if directory else check_file_target)(out, force=force, parent=parent)
