"""Reading logs whatever logger wrote them: line prefixes, line ends, compression, encodings, bounds.

TensorRT's messages reach a file through many loggers, each with its own line prefix: trtexec
(``[11/29/2026-14:32:36] [I] [TRT] ``), the Python ``trt.Logger`` (``[TRT] [V] ``), Polygraphy (``[V] ``), a
custom ``ILogger`` (``[Severity.VERBOSE] ``, ``VERBOSE: ``), Python ``logging`` (``2026-11-29 14:32:36,123 -
trt - INFO - ``, ``INFO:trt:``), a log collector adding its own timestamp in front of any of these, or none.
A multi-line message (the ``Layers:`` listing is one) carries the prefix on its first line only.

So readers never parse the prefix. They look for what they know — the *payload* (``Name: …, LayerType:``,
``Layers:``, ``=== Profile (``, ``Selected Device: ``) — and accept it wherever it starts, provided what stands
before it is short and ends like a prefix ends (a space, ``]``, ``:``, ``|``, ``-``, ``>`` or ``)``): a Markdown
note quoting ```Selected Device: X``` does not qualify. Every search here is a plain substring search or a
regex without nested quantifiers, so a hostile line costs time linear in its length.
"""

from __future__ import annotations

import codecs
import zlib
from pathlib import Path

from trtscope.errors import InputError
from trtscope.parsers.files import read_input

#: Logs larger than this (after decompression) are not read: verbose build logs of big models reach tens of MB.
MAX_LOG_BYTES = 512 * 1024**2
#: A line longer than this is not a log line any reader looks into (the longest real ones, one-line layer
#: entries of layers with hundreds of tensors, are a few hundred KB).
MAX_LINE_CHARS = 4 * 1024**2
#: What may stand before a payload on its line (a logger's prefix, possibly nested: collector + logger).
MAX_PREFIX_CHARS = 256
#: Characters a logger's prefix ends with.
PREFIX_ENDS = frozenset(" \t]:|->)")

GZIP_MAGIC = b"\x1f\x8b"


def decode_text(data: bytes, source: str | Path, *, max_bytes: int = MAX_LOG_BYTES) -> str:
    """Bytes of a text artifact -> text: gzip is decompressed (bounded), a UTF-8 / UTF-16 BOM is honoured
    (PowerShell redirects write UTF-16), undecodable bytes become U+FFFD (names are compared after the same
    decoding)."""
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, source, max_bytes=max_bytes)
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace")


def gunzip(data: bytes, source: str | Path, *, max_bytes: int = MAX_LOG_BYTES) -> bytes:
    """Decompress a gzip file (all members), refusing more than ``max_bytes`` of output (a gzip bomb)."""
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(wbits=31)
            chunk = d.decompress(rest, max_bytes - total + 1)
            total += len(chunk)
            out.append(chunk)
            if total > max_bytes or d.unconsumed_tail:
                raise InputError(source, f"decompresses to more than {max_bytes:,} bytes, more than this reader "
                                         "accepts")
            if not d.eof:
                raise InputError(source, "truncated gzip file")
            rest = d.unused_data.lstrip(b"\x00")  # concatenated members; trailing zero padding is tolerated
    except zlib.error as err:
        raise InputError(source, f"corrupt gzip file ({err})") from err
    return b"".join(out)


def read_log(path: str | Path, *, max_bytes: int = MAX_LOG_BYTES) -> str:
    """A log file's text (see :func:`decode_text`), at most ``max_bytes`` on disk and after decompression."""
    return decode_text(read_input(path, max_bytes=max_bytes, expected="a log"), path, max_bytes=max_bytes)


def log_lines(text: str) -> list[str]:
    """Split on newlines only (``str.splitlines`` also splits on 0x1E, the byte that separates Metadata
    entries); a trailing CR (CRLF files) is dropped; an old-Mac file with bare CRs is split on them."""
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    lines = text.split("\n")
    if "\r" in text:
        lines = [x[:-1] if x.endswith("\r") else x for x in lines]
    return lines


def payload_at(line: str, marker: str) -> int:
    """Where ``marker`` starts ``line``'s payload (the first occurrence after a plausible prefix), or -1."""
    if len(line) > MAX_LINE_CHARS:
        return -1
    at = line.find(marker, 0, MAX_PREFIX_CHARS + len(marker))
    if at <= 0:
        return at
    return at if line[at - 1] in PREFIX_ENDS else -1


def payload(line: str, marker: str) -> str | None:
    """``line`` from ``marker`` on, when ``marker`` starts its payload; else None."""
    at = payload_at(line, marker)
    return None if at < 0 else line[at:]


def payload_is(line: str, text: str) -> bool:
    """The line's whole payload is ``text`` (section headers such as ``Layers:``), whatever its prefix."""
    body = line.rstrip()
    if not body.endswith(text):
        return False
    at = len(body) - len(text)
    return at == 0 or (at <= MAX_PREFIX_CHARS and body[at - 1] in PREFIX_ENDS)


def prefix_shape(prefix: str) -> tuple[str, ...]:
    """A prefix cut into digit runs and the text between them: two lines of one logger share the shape even
    when their timestamps differ (``[11/29/2026-14:32:36] [I] `` vs ``[11/29/2026-14:32:37] [I] ``)."""
    parts: list[str] = []
    cur: list[str] = []
    digits = False
    for c in prefix:
        d = c.isdigit()
        if d != digits and cur:
            parts.append("0" if digits else "".join(cur))
            cur = []
        digits = d
        cur.append(c)
    if cur:
        parts.append("0" if digits else "".join(cur))
    return tuple(parts)


def strip_shape(line: str, shape: tuple[str, ...]) -> str | None:
    """``line`` without a leading prefix of ``shape`` (see :func:`prefix_shape`), or None when it has none."""
    pos = 0
    n = len(line)
    for part in shape:
        if part == "0":
            start = pos
            while pos < n and line[pos].isdigit():
                pos += 1
            if pos == start:
                return None
        elif line.startswith(part, pos):
            pos += len(part)
        else:
            return None
    return line[pos:]
