"""Long names made to fit a column while staying distinguishable (the full name stays in the data, the
status line, the copy commands and exports).

* ONNX names are paths (``/model/layer1/layer1.0/conv1/Conv``) that differ at the end: leading segments go
  first (``…/layer1.0/conv1/Conv``), never the tail that tells conv1 from conv2.
* Fused layer names (``A + B + C``) shorten each part that way; a name still too long loses its middle.
* Kernel names: Itanium-mangled ones (``_ZN2at6native…``) show their function name; demangled C++ signatures
  (nsys exports) drop the return type, the parameter list, namespaces and nested template arguments:
  ``void at::native::vectorized_elementwise_kernel<(int)4, at::native::CUDAFunctor_add<float>, ...>(int, T2)``
  reads ``vectorized_elementwise_kernel<4, CUDAFunctor_add<…>, array<…>>``.
Pure string functions (no Textual), called only for the rows on screen.
"""

from __future__ import annotations

import re
from functools import lru_cache

ELLIPSIS = "…"


def middle(text: str, width: int) -> str:
    """Both ends of ``text`` in ``width`` cells (fused names and TensorRT's own names differ at both)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = (width - 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head):]


def _path_tail(part: str, keep: int) -> str:
    """``part`` with all but its last ``keep`` path segments replaced by an ellipsis."""
    segs = part.split("/")
    if keep >= len(segs):
        return part
    return ELLIPSIS + "/" + "/".join(segs[len(segs) - keep:])


def shorten_name(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, keeping what tells names apart (see the module docstring)."""
    if len(text) <= width or width <= 0:
        return text if width > 0 else ""
    parts = text.split(" + ")
    if any("/" in p for p in parts):
        depth = max(p.count("/") for p in parts)
        for keep in range(depth, 0, -1):  # drop leading segments of every part, one level at a time
            short = " + ".join(_path_tail(p, keep) for p in parts)
            if len(short) <= width:
                return short
        text = " + ".join(_path_tail(p, 1) for p in parts)
        if len(text) <= width:
            return text
        if len(parts) == 1:  # one segment too long: keep its end
            return ELLIPSIS + text[len(text) - width + 1:]
    return middle(text, width)


# --- kernels ----------------------------------------------------------------------------------------------------
_SOURCE_NAME = re.compile(r"(\d+)")
_ANON = "_GLOBAL__N_"


def _mangled_function(name: str) -> str | None:
    """The qualified function name of an Itanium-mangled symbol (``_ZN2at6native4funcI...E...``), template
    arguments shown as ``<…>``; None when the symbol is not of that simple shape."""
    if not name.startswith("_Z"):
        return None
    i = 2
    nested = name.startswith("_ZN")
    if nested:
        i = 3
        while i < len(name) and name[i] in "rVKRO":  # cv- and ref-qualifiers of a member function
            i += 1
    parts: list[str] = []
    templated = False
    while i < len(name):
        if name.startswith("St", i):
            parts.append("std")
            i += 2
            continue
        m = _SOURCE_NAME.match(name, i)
        if not m:
            templated = name[i] == "I"
            break
        n = int(m.group(1))
        start = m.end()
        ident = name[start:start + n]
        if len(ident) < n:
            return None
        parts.append("(anonymous namespace)" if ident.startswith(_ANON) else ident)
        i = start + n
        if not nested:
            templated = name.startswith("I", i)
            break
    if not parts:
        return None
    if not templated:
        return "::".join(parts)
    hint = _mangled_hint(name[i:])
    return "::".join(parts) + (f"<…{hint}…>" if hint else "<…>")


#: Names in template arguments that tell nothing apart (namespaces, element types, containers).
_NOISE = frozenset({"at", "native", "c10", "std", "detail", "cuda", "cub", "Half", "BFloat16", "array",
                    "TensorIteratorBase", "TensorIterator", "Scalar", "OffsetCalculator", "IntDivider", "func",
                    "cutlass", "thrust", "memory", "impl", "internal"})
_IDENT = re.compile(r"[A-Za-z_]\w*")


def _mangled_hint(args: str) -> str | None:
    """The first telling name inside mangled template arguments (``GeluCUDAKernelImpl``, ``FillFunctor``).

    A small scanner: substitutions (``S0_``) and literals (``Li8E``) are skipped, a length-prefixed name is
    read whole, so the digits inside a name or a literal are never taken for a length."""
    i, n = 0, len(args)
    while i < n:
        ch = args[i]
        if ch == "S" and i + 1 < n and (args[i + 1].isalnum() or args[i + 1] == "_"):
            j = i + 1
            while j < n and (args[j].isdigit() or args[j].isupper()) and args[j] != "_":
                j += 1
            i = j + 1 if j < n and args[j] == "_" else i + 2  # S<seq>_, or St/Sa/Ss... (two letters)
            continue
        if ch == "L":  # a literal: L <type> <value> E
            j = args.find("E", i + 1)
            i = n if j < 0 else j + 1
            continue
        if ch.isdigit():
            j = i
            while j < n and args[j].isdigit():
                j += 1
            length = int(args[i:j])
            ident = args[j:j + length]
            i = j + length
            if len(ident) == length > 2 and _IDENT.fullmatch(ident) and ident not in _NOISE \
                    and not ident.startswith(_ANON):
                return ident
            continue
        i += 1
    return None


def _strip_signature(name: str) -> str:
    """A demangled C++ function without its return type and parameter list."""
    s = name.strip()
    depth, cut = 0, len(s)
    for pos, ch in enumerate(s):  # the parameter list: the first "(" outside template brackets
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0 and pos > 0:
            cut = pos
            break
    s = s[:cut]
    depth, last = 0, -1
    for pos, ch in enumerate(s):  # the return type ends at the last space outside template brackets
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == " " and depth == 0:
            last = pos
    return s[last + 1:].strip()


def _unqualified(s: str) -> str:
    """``a::b::c<x::y>`` -> ``c<x::y>`` (the namespaces of the outermost name only)."""
    depth = 0
    last = 0
    for pos, ch in enumerate(s):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == ":" and depth == 0 and s.startswith("::", pos):
            last = pos + 2
    return s[last:]


def _template_args(s: str) -> str:
    """Template arguments one level deep, each unqualified, casts such as ``(int)`` dropped, deeper levels
    as ``<…>``."""
    open_at = s.find("<")
    if open_at < 0 or not s.endswith(">"):
        return s
    inner = s[open_at + 1:-1]
    args, depth, start = [], 0, 0
    for pos, ch in enumerate(inner):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:pos])
            start = pos + 1
    args.append(inner[start:])
    out = []
    for a in args:
        a = re.sub(r"^\((?:unsigned )?(?:int|long|short|char|bool)\)", "", a.strip())
        a = re.sub(r"^\(\w+(?: \w+)*\)", "", a)
        a = _unqualified(a)
        lt = a.find("<")
        if lt >= 0:
            a = a[:lt] + "<…>"
        out.append(a)
    return s[:open_at] + "<" + ", ".join(out) + ">"


@lru_cache(maxsize=4096)
def kernel_label(name: str) -> str:
    """A short, readable label for a CUDA kernel name (see the module docstring); the name itself when it is
    already plain (``sm90_xmma_gemm_…``, ``__myl_…``)."""
    if not name:
        return name
    mangled = _mangled_function(name)
    if mangled is not None:
        return _unqualified(mangled)
    if "(" not in name and "<" not in name and "::" not in name:
        return name
    s = _strip_signature(name)
    s = _unqualified(s)
    return _template_args(s)
