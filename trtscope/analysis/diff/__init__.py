"""``trtscope diff``'s library: two engines of one model compared at the ONNX-node level (see session.py)."""

from trtscope.analysis.diff.session import Diff, diff

__all__ = ["Diff", "diff"]
