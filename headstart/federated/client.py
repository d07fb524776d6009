"""A Flower client that trains one headstart method on its own data with headstart's training path."""

from __future__ import annotations

import json
import math

import numpy as np
import torch
from flwr.client import NumPyClient
from flwr.common import Scalar
from torch import Tensor

from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.federated.shared import SharedModel
from headstart.fitted import Transferred
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.data import single_task
from headstart.training.objective import SingleTask
from headstart.training.run import run


class Proximal:
    r"""FedProx's term (Li et al., "Federated optimization in heterogeneous networks", 2020):
    :math:`\frac{\mu}{2} \lVert w - w^t \rVert_2^2` over every trainable parameter, head included,
    :math:`w^t` being the global model the round started from."""

    def __init__(self, model: TransferModel, mu: float) -> None:
        self.mu = mu
        self.anchor = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    def __call__(self, model: TransferModel, features: Tensor) -> Tensor:
        params = dict(model.named_parameters())
        return 0.5 * self.mu * torch.stack([((params[n] - w0) ** 2).sum() for n, w0 in self.anchor.items()]).sum()


class HeadstartClient(NumPyClient):
    """Holds ``train`` (which never leaves). The first ``fit`` builds the model the server describes
    in its config (``Federation.run_config``: recipe, classes, head width); each ``fit`` loads the
    global trainable state, trains ``recipe.epochs`` local epochs through ``headstart.training.run``
    (adding FedProx's term when the config sets ``proximal_mu``; with ``logit_adjust``, the
    logit-adjusted loss of its own label prior, ``SingleTask``; given the ``round`` and the
    ``rounds`` in all, the stretch of one schedule over all rounds) and returns that state."""

    def __init__(self, train: Dataset) -> None:
        self.train = train
        self.shared: SharedModel | None = None
        self.mu = 0.0

    def build(self, config: dict[str, Scalar]) -> SharedModel:
        recipe = Recipe(**json.loads(str(config["recipe"])))
        classes = json.loads(str(config["classes"]))
        if recipe.task == "classification":
            self.train = self.train.encoded_as(classes)  # the server's class codes, or a one-line refusal
        shared = SharedModel.build(recipe, int(config["out_dim"]))
        if shared.fixed_digest() != config["fixed"]:
            raise HeadstartError("this client built other fixed tensors (LoRA's frozen A) than the server: "
                                 "same headstart, torch and PEFT versions needed")
        method = shared.method
        setup = method.setup_penalties

        def setup_with_proximal(model: TransferModel) -> None:  # run() sets penalties up once trainables are final
            setup(model)
            if self.mu > 0:
                method.penalties.append(Proximal(model, self.mu))

        method.setup_penalties = setup_with_proximal  # type: ignore[method-assign]
        return shared

    def fit(self, parameters: list[np.ndarray], config: dict[str, Scalar]) -> tuple[list[np.ndarray], int, dict[str, Scalar]]:
        shared = self.shared = self.shared or self.build(config)
        shared.load(parameters)
        self.mu = float(config.get("proximal_mu", 0.0))
        model, method, recipe = shared.model, shared.method, shared.method.recipe
        out_dim = shared.model.head.out_features
        prior = self.log_prior(out_dim) if config.get("logit_adjust") and recipe.task == "classification" else None
        part = (int(config["round"]) - 1, int(config["rounds"])) if "rounds" in config else (0, 1)
        result = run(model, method, SingleTask(recipe.task, out_dim, prior),
                     lambda start: single_task(model, self.train, None, start, recipe, False), part=part)
        loss = result.history[-1].get("train_loss", math.nan) if result.history else math.nan
        return shared.arrays(), len(self.train), {"train_loss": float(loss)}

    def log_prior(self, classes: int) -> Tensor:
        """The log of this client's class prior, estimated by Laplace's rule ``(n_c + 1) / (n + C)``:
        a class it has no example of is unlikely, not impossible, so a single-class client still
        trains (with the empirical prior, ``log 0``, its loss would be 0 whatever the model)."""
        counts = torch.bincount(torch.as_tensor(self.train.labels, dtype=torch.long), minlength=classes).float()
        return ((counts + 1) / (counts.sum() + classes)).log()

    def personalise(self, parameters: list[np.ndarray], config: dict[str, Scalar], test: Dataset) -> dict[str, float]:
        """Accuracy on this client's ``test`` of the global model (``parameters``) and of its own:
        the global one trained on ``train`` for the recipe's local epochs more (what the method
        trains: for the probe, the head), which never leaves the client."""
        shared = self.shared = self.shared or self.build(config)
        fitted = Transferred(shared.model, shared.method, json.loads(str(config["classes"])), {})
        shared.load(parameters)
        shared.model.eval()
        before = fitted.evaluate(test)["accuracy"]
        self.fit(parameters, {**config, "proximal_mu": 0.0, "logit_adjust": False})  # its own prior is the one to fit
        shared.model.eval()
        return {"n_test": len(test), "global": before, "personalised": fitted.evaluate(test)["accuracy"]}


def connect(address: str, train: Dataset) -> None:
    """Serve ``train`` as one client of the ``headstart federate server`` at ``address`` until it ends."""
    from flwr.client import start_client

    start_client(server_address=address, client=HeadstartClient(train).to_client(), insecure=True)
