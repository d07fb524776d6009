"""Federated transfer learning on Flower (``pip install headstart[federated]``).

Every client starts from the same pre-trained backbone and trains with an ordinary headstart
method; only the method's trainable state (the head, the unfrozen groups or the LoRA adapters)
travels to Flower's server strategy (FedAvg, FedProx), never the frozen backbone or the data.
"""

import os

from headstart.errors import HeadstartError

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # offline-first: Flower sends no usage events
try:
    import flwr  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed in CI
    raise HeadstartError("federated learning needs Flower: pip install 'headstart[federated]'") from exc
