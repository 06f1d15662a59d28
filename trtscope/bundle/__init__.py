"""Capture bundles: one self-describing directory per run (see docs/bundle-format.md).

``BundleWriter`` is imported on first use: it needs pandas and pyarrow, and asking ``is_bundle`` (every
command that reads a path does, before anything else) must not pay for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtscope.bundle.manifest import BUNDLE_FORMAT, SCHEMA_VERSION, is_bundle

if TYPE_CHECKING:
    from trtscope.bundle.writer import BundleWriter

__all__ = ["BUNDLE_FORMAT", "SCHEMA_VERSION", "BundleWriter", "is_bundle"]


def __getattr__(name: str) -> Any:
    if name == "BundleWriter":
        from trtscope.bundle.writer import BundleWriter

        return BundleWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
