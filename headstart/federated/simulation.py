"""Federation on one machine: Flower's ``Server`` drives the rounds and its strategy aggregates;
the clients are called in this process, one after the other (Flower's own simulation engine
needs Ray, a heavy dependency, and runs clients concurrently, which makes runs irreproducible)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from flwr.client import Client
from flwr.common import (
    DisconnectRes,
    EvaluateIns,
    EvaluateRes,
    FitIns,
    FitRes,
    GetParametersIns,
    GetParametersRes,
    GetPropertiesIns,
    GetPropertiesRes,
    parameters_to_ndarrays,
)
from flwr.server import Server, SimpleClientManager
from flwr.server.client_proxy import ClientProxy

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.federated.client import HeadstartClient
from headstart.federated.shared import SharedModel, nbytes
from headstart.federated.strategy import Screened, make_strategy
from headstart.fitted import Transferred
from headstart.recipe import Recipe


class InProcessProxy(ClientProxy):
    """The server's handle on a Flower ``Client`` living in this process: the same messages
    (serialised parameters) as over gRPC, without the network."""

    def __init__(self, cid: str, client: Client) -> None:
        super().__init__(cid)
        self.client = client

    def get_properties(self, ins: GetPropertiesIns, timeout: float | None, group_id: int | None) -> GetPropertiesRes:
        return self.client.get_properties(ins)

    def get_parameters(self, ins: GetParametersIns, timeout: float | None, group_id: int | None) -> GetParametersRes:
        return self.client.get_parameters(ins)

    def fit(self, ins: FitIns, timeout: float | None, group_id: int | None) -> FitRes:
        return self.client.fit(ins)

    def evaluate(self, ins: EvaluateIns, timeout: float | None, group_id: int | None) -> EvaluateRes:
        return self.client.evaluate(ins)

    def reconnect(self, ins: Any, timeout: float | None, group_id: int | None) -> DisconnectRes:
        return DisconnectRes(reason="")


def simulate(parts: Sequence[Dataset], recipe: Recipe, *, rounds: int, strategy: str = "fedavg", mu: float = 0.01,
             fraction: float = 1.0, clients: Sequence[Client] | None = None, progress: bool = False) -> Transferred:
    """Federate ``recipe`` over the datasets ``parts`` (one per client, coded with the same
    classes) for ``rounds`` rounds of Flower's ``strategy`` and return the global model, its
    ``info["federated"]`` holding the bytes and rejections of every round. ``clients`` replaces
    the headstart clients (e.g. a faulty one, in tests)."""
    started = time.perf_counter()
    logging.getLogger("flwr").setLevel(logging.INFO if progress else logging.WARNING)
    pooled = parts[0]
    out_dim = tasks.output_dim(recipe.task, pooled.classes, pooled.labels)
    server_model = SharedModel.build(recipe, out_dim)
    chosen = make_strategy(strategy, server_model.arrays(), clients=len(parts), fraction=fraction, mu=mu)
    manager = SimpleClientManager()
    for i, client in enumerate(clients or [HeadstartClient(recipe, out_dim, part).to_client() for part in parts]):
        manager.register(InProcessProxy(str(i), client))
    server = Server(client_manager=manager, strategy=chosen)
    server.set_max_workers(1)  # one client at a time: reproducible, and the cores go to its training
    server.fit(rounds, timeout=None)
    server_model.load(parameters_to_ndarrays(server.parameters))
    server_model.model.eval()
    info = federated_info(parts, recipe, server_model, chosen, strategy, mu if strategy == "fedprox" else 0.0)
    info["train_seconds"] = time.perf_counter() - started
    return Transferred(server_model.model, server_model.method, pooled.classes, info)


def federated_info(parts: Sequence[Dataset], recipe: Recipe, model: SharedModel, strategy: Screened, name: str, mu: float) -> dict[str, Any]:
    """The run's facts: examples and classes over all clients, and ``federated``: the strategy, the
    clients' sizes, the bytes of the trainable state against the whole model's, and each round's record."""
    counts: dict[str, int] = {}
    for part in parts:
        for c, k in part.class_counts().items():
            counts[c] = counts.get(c, 0) + k
    travels = nbytes(model.arrays())
    return {
        "n_train": sum(len(p) for p in parts), "n_val": 0, "class_counts": counts,
        "trainable_params": sum(a.size for a in model.arrays()),
        "federated": {
            "strategy": name, "proximal_mu": mu, "clients": len(parts), "client_sizes": [len(p) for p in parts],
            "local_epochs": recipe.epochs, "rounds": strategy.rounds, "trainable_bytes": travels,
            "model_bytes": model.model_bytes(), "trainable_share": travels / model.model_bytes(),
        },
    }
