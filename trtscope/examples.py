"""The bundled real example: a ResNet-18 built by TensorRT-RTX on an H100 (see its SOURCE.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from trtscope.errors import InputError

EXAMPLE = "rtx-h100-resnet18"
#: Said wherever the example is shown, because its missing times are a fact of how it was made, not a fault.
EXAMPLE_NOTE = (
    "bundled example: engine built by TensorRT-RTX on an H100, whose runtime refuses compute capability 9.0 — "
    "so this example has layer information but no per-layer times (none are invented)"
)


def example_dir(name: str = EXAMPLE) -> Path:
    """Installed wheels carry it as package data; a source checkout reads it from fixtures/."""
    packaged = Path(str(resources.files("trtscope"))) / "_examples" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "fixtures" / name
    if checkout.is_dir():
        return checkout
    raise InputError(str(checkout), "the bundled example is missing from this installation")
