"""The server side: the global model, Flower's strategy around it, and ``serve`` over gRPC."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flwr.common import Parameters, Scalar, parameters_to_ndarrays
from flwr.server import Server, ServerConfig, SimpleClientManager, start_server

from headstart.artifacts import expect_format, read_artifact, to_json, write_artifact
from headstart.errors import HeadstartError
from headstart.federated.shared import SharedModel, nbytes
from headstart.federated.strategy import CentralPrivacy, Screened, make_strategy
from headstart.fitted import Transferred
from headstart.recipe import Recipe

CHECKPOINT = "federation-checkpoint"
CHECKPOINT_DIR = "federation"  # the checkpoint's folder inside a run folder


@dataclass
class Federation:
    """One federated run's server: the global ``SharedModel`` built from ``recipe`` and Flower's
    ``strategy`` over ``clients`` clients, which sends every client the run's description
    (``run_config``: the recipe, the classes, the head's width, the digest of the
    tensors that stay as initialised and do not travel) with each round's parameters.
    With a ``checkpoint`` folder, the global trainable state and the rounds so far are written
    there (atomically, as an artifact) after every round; ``resume`` starts from it."""

    recipe: Recipe
    classes: list[str] | None
    out_dim: int
    clients: int
    strategy_name: str = "fedavg"
    mu: float = 0.01
    fraction: float = 1.0
    checkpoint: Path | None = None
    resume: bool = False
    min_clients: int | None = None  # clients a round waits for (default: all)
    dp_noise: float | None = None  # central differential privacy's noise multiplier (None: no DP)
    dp_clip: float = 1.0  # its clipping norm of every client's update (L2)
    logit_adjust: bool = False  # clients train with the logit-adjusted loss of their own label prior
    global_schedule: bool = False  # the clients' learning-rate schedule spans all rounds, not each one
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.model = SharedModel.build(self.recipe, self.out_dim)
        rounds: list[dict[str, Any]] = []
        if self.resume:
            rounds = self.restore()
        self.strategy: Screened = make_strategy(self.strategy_name, self.model.arrays(), clients=self.clients, fraction=self.fraction,
                                                mu=self.mu, config=self.run_config(), min_clients=self.min_clients)
        self.strategy.rounds, self.strategy.done = rounds, len(rounds)
        if self.checkpoint is not None:
            self.strategy.on_round = self.save_checkpoint
        self.privacy = None if self.dp_noise is None else CentralPrivacy(
            self.strategy, self.dp_noise, self.dp_clip, self.strategy.min_fit_clients)

    def save_checkpoint(self, server_round: int, parameters: Parameters) -> None:
        """The round's global trainable state and every round's record, replacing the last checkpoint."""
        arrays = parameters_to_ndarrays(parameters)
        write_artifact(self.checkpoint, CHECKPOINT, {"round": server_round, "rounds": self.strategy.rounds,
                                                     "recipe": self.recipe.to_dict()}, dict(zip(self.model.keys, arrays, strict=True)))

    def restore(self) -> list[dict[str, Any]]:
        """Load the checkpoint's global state into the model; the rounds it records."""
        if self.checkpoint is None or not (Path(self.checkpoint) / "config.json").is_file():
            raise HeadstartError(f"--resume: no federation checkpoint in {self.checkpoint}")
        saved = read_artifact(self.checkpoint)
        expect_format(saved, CHECKPOINT)
        if sorted(saved.tensors) != self.model.keys or saved.config["recipe"] != to_json(self.recipe.to_dict()):
            raise HeadstartError(f"--resume: the checkpoint in {self.checkpoint} is of another recipe or model")
        self.model.load([saved.tensors[k].numpy() for k in self.model.keys])
        return list(saved.config["rounds"])

    def remaining(self, rounds: int) -> int:
        """Rounds still to run for ``rounds`` in all (after a resumed run's done ones)."""
        self.strategy.schedule_rounds = rounds if self.global_schedule else 0
        left = rounds - self.strategy.done
        if left < 1:
            raise HeadstartError(f"--resume: the checkpoint has {self.strategy.done} rounds done already, --rounds is {rounds}")
        return left

    def run_config(self) -> dict[str, Scalar]:
        return {"recipe": json.dumps(self.recipe.to_dict()), "classes": json.dumps(self.classes), "out_dim": self.out_dim,
                "fixed": self.model.fixed_digest(), "logit_adjust": self.logit_adjust}

    def server(self) -> Server:
        """Flower's server for the strategy, calling one client at a time when they share a process."""
        server = Server(client_manager=SimpleClientManager(), strategy=self.privacy or self.strategy)
        server.set_max_workers(1)
        return server

    def result(self, parameters: Parameters) -> Transferred:
        """The global model holding the aggregated ``parameters``, with the run's facts in ``info``."""
        self.model.load(parameters_to_ndarrays(parameters))
        self.model.model.eval()
        arrays = self.model.arrays()
        travels, whole = nbytes(arrays), self.model.model_bytes()
        sizes = self.strategy.rounds[-1]["examples"] if self.strategy.rounds else {}
        info: dict[str, Any] = {
            "n_train": sum(sizes.values()), "n_val": 0, "trainable_params": sum(a.size for a in arrays),
            "train_seconds": time.perf_counter() - self.started,
            "federated": {
                "strategy": self.strategy_name, "proximal_mu": self.mu if self.strategy_name == "fedprox" else 0.0,
                "logit_adjust": self.logit_adjust, "global_schedule": self.global_schedule,
                "clients": self.clients, "client_sizes": [sizes[c] for c in sorted(sizes)], "local_epochs": self.recipe.epochs,
                "rounds": self.strategy.rounds, "trainable_bytes": travels, "model_bytes": whole, "trainable_share": travels / whole,
                "privacy": self.privacy.describe() if self.privacy else None,
            },
        }
        return Transferred(self.model.model, self.model.method, self.classes, info)


def serve(address: str, federation: Federation, rounds: int, *, round_timeout: float | None = None, progress: bool = True) -> Transferred:
    """Run ``federation`` for ``rounds`` rounds with clients connecting over gRPC to ``address``
    (``host:port``; ``headstart federate client``); a client that does not answer within
    ``round_timeout`` seconds counts as a failure of that round. Returns the global model."""
    logging.getLogger("flwr").setLevel(logging.INFO if progress else logging.WARNING)
    server = federation.server()
    server.set_max_workers(None)  # separate processes train in parallel
    start_server(server_address=address, server=server, config=ServerConfig(num_rounds=federation.remaining(rounds), round_timeout=round_timeout))
    return federation.result(server.parameters)
