"""trtscope: what a TensorRT engine really does on the GPU, mapped back to the ONNX model.

The analysis core reads TensorRT's exported artifacts (layer information, per-layer profiles, per-iteration
times, the ONNX model, Nsight Systems exports, trtscope capture bundles) and needs neither a GPU nor
TensorRT::

    import trtscope
    a = trtscope.load("engine_dir/")          # or load(layers=..., profile=..., onnx=...)
    a.layers            # one row per engine layer: kind, ONNX nodes, mean/median ms, share
    a.onnx_nodes        # one row per ONNX node: status (fused / alone / myelin / absent)
    a.mapping           # layer <-> ONNX node, many-to-many
    a.hotspots          # layers ranked by time
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtscope._version import __version__

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis


def load(path: Any = None, **kwargs: Any) -> Analysis:
    """Load artifacts (a directory, a file, or explicit ``layers=``/``profile=``/``times=``/``onnx=``) and
    analyse them. See :func:`trtscope.loader.load` for the arguments."""
    from trtscope.loader import load as _load

    return _load(path, **kwargs)


__all__ = ["__version__", "load"]
