"""Capture bundles: one self-describing directory per run (see docs/bundle-format.md)."""

from trtscope.bundle.manifest import BUNDLE_FORMAT, SCHEMA_VERSION, is_bundle
from trtscope.bundle.writer import BundleWriter

__all__ = ["BUNDLE_FORMAT", "SCHEMA_VERSION", "BundleWriter", "is_bundle"]
