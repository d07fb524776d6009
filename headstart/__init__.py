"""headstart: offline-first transfer learning.

>>> import headstart
>>> model = headstart.fit("bbc_news:train", backbone="minilm-l6", method="probe", shots=8)
>>> model.save("runs/bbc")                       # doctest: +SKIP
>>> headstart.load("runs/bbc").predict(["Stocks rallied after the rate cut"]).labels  # doctest: +SKIP
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Public names, imported on first use so that `import headstart.<submodule>` stays light.
_EXPORTS = {
    "fit": "headstart.api",
    "Transferred": "headstart.api",
    "Prediction": "headstart.api",
    "load": "headstart.artifacts",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'headstart' has no attribute {name!r}")
