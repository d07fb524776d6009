"""Federation on one machine: Flower's ``Server`` drives the rounds and its strategy aggregates;
the clients are called in this process, one after the other (Flower's own simulation engine
needs Ray, a heavy dependency, and runs clients concurrently, which makes runs irreproducible)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
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
from flwr.server.client_proxy import ClientProxy

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.federated.client import HeadstartClient
from headstart.federated.server import Federation
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
             fraction: float = 1.0, clients: Sequence[Client] | None = None, checkpoint: Path | None = None, resume: bool = False,
             tests: Sequence[Dataset] | None = None, progress: bool = False, dp_noise: float | None = None,
             dp_clip: float = 1.0, logit_adjust: bool = False, global_schedule: bool = False) -> Transferred:
    """Federate ``recipe`` over the datasets ``parts`` (one per client, coded with the same
    classes) for ``rounds`` rounds of Flower's ``strategy`` and return the global model, its
    ``info["federated"]`` holding the bytes and rejections of every round. ``clients`` replaces
    the headstart clients (e.g. a faulty one, in tests); ``checkpoint``/``resume`` as in ``Federation``.
    With ``tests`` (one per client), each client then personalises the global model on its own
    data and ``info["federated"]["personalised"]`` compares the two on its test split. ``dp_noise``
    (with ``dp_clip``) adds Flower's central differential privacy (``strategy.CentralPrivacy``);
    ``logit_adjust`` has the clients train with the logit-adjusted loss of their own label prior;
    ``global_schedule``: their learning-rate schedule spans all rounds (each round a stretch of it)."""
    logging.getLogger("flwr").setLevel(logging.INFO if progress else logging.WARNING)
    first = parts[0]
    federation = Federation(recipe, first.classes, tasks.output_dim(recipe.task, first.classes, first.labels), len(clients or parts),
                            strategy, mu, fraction, checkpoint, resume, dp_noise=dp_noise, dp_clip=dp_clip,
                            logit_adjust=logit_adjust, global_schedule=global_schedule)
    server = federation.server()
    own = [HeadstartClient(part) for part in parts]
    for i, client in enumerate(clients or [local.to_client() for local in own]):
        server.client_manager().register(InProcessProxy(str(i), client))
    server.fit(federation.remaining(rounds), timeout=None)
    model = federation.result(server.parameters)
    if tests is not None:
        arrays, config = parameters_to_ndarrays(server.parameters), federation.run_config()
        model.info["federated"]["personalised"] = [{"client": i, **local.personalise(arrays, config, test)}
                                                   for i, (local, test) in enumerate(zip(own, tests, strict=True))]
    counts: dict[str, int] = {}
    for part in parts:
        for c, k in part.class_counts().items():
            counts[c] = counts.get(c, 0) + k
    model.info["class_counts"] = counts
    return model
