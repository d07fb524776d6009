"""headstart: offline-first transfer learning.

>>> import headstart
>>> model = headstart.fit("bbc_news:train", backbone="minilm-l6", method="probe", shots=8)
>>> model.save("runs/bbc")                       # doctest: +SKIP
>>> headstart.load("runs/bbc").predict(["Stocks rallied after the rate cut"]).labels  # doctest: +SKIP
"""

from headstart.lazy import lazy_getattr
from headstart.quiet import silence_library_noise

__version__ = "0.1.0"

# Public names, imported on first use so that `import headstart.<submodule>` stays light.
_EXPORTS = {
    "fit": "headstart.api",
    "federate": "headstart.federated.api",
    "FittedModel": "headstart.fitted",
    "Transferred": "headstart.fitted",
    "Prediction": "headstart.fitted",
    "load": "headstart.loading",
    "export_onnx": "headstart.export",
}
__all__ = [*_EXPORTS, "__version__"]

__getattr__ = lazy_getattr(__name__, _EXPORTS)
silence_library_noise()
