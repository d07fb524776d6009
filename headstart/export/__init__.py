"""Export a fitted model to ONNX (``export_onnx``) and run the export (``OnnxModel``)."""

from headstart.export.export import export_onnx
from headstart.export.runner import OnnxModel

__all__ = ["export_onnx", "OnnxModel"]
