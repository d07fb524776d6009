"""Flower's FedAvg, FedProx, FedAvgM and FedAdam, screening client updates and counting the bytes of every round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from flwr.common import FitIns, FitRes, Parameters, Scalar, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.client_manager import ClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import DifferentialPrivacyServerSideFixedClipping, FedAdam, FedAvg, FedAvgM, FedProx

from headstart.errors import HeadstartError
from headstart.federated.accounting import DELTA, gaussian_epsilon

log = logging.getLogger("headstart.federated")


class Screened:
    """A mixin for a Flower strategy: before aggregating, an update whose tensors do not have the
    global model's shapes, or hold NaN or infinite values, is rejected (logged, counted as a
    failure; the round goes on with the others). ``rounds`` records, per round, the bytes sent to
    the clients and received from them, the rejections and the failures (clients that sent
    nothing back: disconnected or past the round's timeout). Rounds are numbered after the
    ``done`` ones of a resumed run; ``on_round(round, parameters)`` sees each round's result.
    The first round waits for every client; later ones for ``later_clients`` (default: all again).
    With ``schedule_rounds``, every round's config has the round's number and that total.
    With ``uniform`` every kept update weighs the same in the mean, whatever its client's size."""

    def __init__(self, *args: Any, shapes: list[tuple[int, ...]], later_clients: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shapes, self.later_clients = shapes, later_clients
        self.uniform = False
        self.rounds: list[dict[str, Any]] = []
        self.done = 0
        self.on_round: Callable[[int, Parameters], None] | None = None
        self.schedule_rounds = 0  # > 0: each round's config tells the clients the round and this total

    def configure_fit(self, server_round: int, parameters: Parameters, client_manager: ClientManager) -> list[tuple[ClientProxy, FitIns]]:
        if server_round > 1 and self.later_clients is not None:  # Flower's FedAvg reads these two before sampling
            self.min_available_clients = self.later_clients
            self.min_fit_clients = min(self.min_fit_clients, self.later_clients)
        instructions = super().configure_fit(server_round, parameters, client_manager)  # type: ignore[misc]
        if self.schedule_rounds:
            for _, ins in instructions:
                ins.config = {**ins.config, "round": self.done + server_round, "rounds": self.schedule_rounds}
        size = sum(len(t) for t in parameters.tensors)
        self.rounds.append({"round": self.done + server_round, "clients": len(instructions), "bytes_sent": size * len(instructions),
                            "bytes_received": 0, "rejected": [], "examples": {}})
        return instructions

    def aggregate_fit(self, server_round: int, results: list[tuple[ClientProxy, FitRes]],
                      failures: list[Any]) -> tuple[Parameters | None, dict[str, Any]]:
        record = self.rounds[-1]
        kept = []
        for proxy, res in results:
            record["examples"][proxy.cid] = res.num_examples
            record["bytes_received"] += sum(len(t) for t in res.parameters.tensors)
            problem = self.problem(parameters_to_ndarrays(res.parameters))
            if problem:
                log.warning("round %d: update of client %s rejected: %s", server_round, proxy.cid, problem)
                record["rejected"].append({"client": proxy.cid, "reason": problem})
                failures.append((proxy, res))
            else:
                kept.append((proxy, replace(res, num_examples=1) if self.uniform else res))
        record["failures"] = len(failures)
        parameters, metrics = super().aggregate_fit(server_round, kept, failures)  # type: ignore[misc]
        record.update(metrics)
        if parameters is not None and self.on_round is not None:
            self.on_round(record["round"], parameters)
        return parameters, metrics

    def problem(self, arrays: list[np.ndarray]) -> str | None:
        """Why an update cannot be averaged into the global model, or ``None``."""
        shapes = [tuple(a.shape) for a in arrays]
        if shapes != self.shapes:
            odd = next((f"tensor {i}: {s} instead of {w}" for i, (s, w) in enumerate(zip(shapes, self.shapes)) if s != w),
                       f"{len(shapes)} tensors instead of {len(self.shapes)}")
            return f"wrong shape ({odd})"
        bad = sum(int((~np.isfinite(a)).sum()) for a in arrays if np.issubdtype(a.dtype, np.floating))
        return f"{bad} NaN or infinite values" if bad else None


class ScreenedFedAvg(Screened, FedAvg):
    """FedAvg (McMahan et al. 2017): the example-weighted mean of the clients' updates."""


class ScreenedFedProx(Screened, FedProx):
    """FedProx (Li et al. 2020): FedAvg whose clients add mu/2 ||w - w_global||^2 to their loss."""


class CentralPrivacy(DifferentialPrivacyServerSideFixedClipping):
    """Flower's central differential privacy with server-side fixed clipping around a ``Screened``
    strategy: every client's update ``Δ`` is clipped to ``Δ · min(1, C / ||Δ||₂)``, the clipped
    updates are aggregated by the strategy, and Gaussian noise of standard deviation
    ``σ = z · C / m`` (``z`` the noise multiplier, ``m`` the sampled clients) is added to the
    aggregate. The clipped updates weigh the same (DP-FedAvg's unweighted mean: one client moves
    it by at most ``C / m``, whatever its size), and ``describe`` accounts the rounds' epsilon
    (``headstart.federated.accounting``). The round's checkpoint (``on_round``) is written after the noise, so that nothing
    un-noised is kept. As in Flower, a round with a failed client is not aggregated."""

    def __init__(self, strategy: Screened, noise_multiplier: float, clipping_norm: float, sampled: int) -> None:
        if noise_multiplier < 0 or clipping_norm <= 0:
            raise HeadstartError(f"differential privacy needs a noise multiplier >= 0 and a clipping norm > 0, "
                                 f"not {noise_multiplier} and {clipping_norm}")
        super().__init__(strategy, noise_multiplier=noise_multiplier, clipping_norm=clipping_norm, num_sampled_clients=sampled)
        self.on_round, strategy.on_round = strategy.on_round, None
        strategy.uniform = True

    def aggregate_fit(self, server_round: int, results: list[tuple[ClientProxy, FitRes]],
                      failures: list[Any]) -> tuple[Parameters | None, dict[str, Any]]:
        parameters, metrics = super().aggregate_fit(server_round, results, failures)
        if parameters is not None and self.on_round is not None:
            self.on_round(self.strategy.rounds[-1]["round"], parameters)
        return parameters, metrics

    def describe(self) -> dict[str, Any]:
        """The privacy parameters and the epsilon of the rounds aggregated so far, as the run's info reports them."""
        rounds = len(self.strategy.rounds)  # every round started counts, aggregated or not (conservative)
        return {"mechanism": "central DP, server-side fixed clipping (Flower), unweighted mean",
                "noise_multiplier": self.noise_multiplier, "clipping_norm": self.clipping_norm,
                "sampled_clients": self.num_sampled_clients,
                "noise_std": self.noise_multiplier * self.clipping_norm / self.num_sampled_clients,
                "rounds": rounds, "delta": DELTA, "epsilon": gaussian_epsilon(self.noise_multiplier, rounds, DELTA),
                "accountant": "Gaussian DP (Dong, Roth and Su 2019), client level, every client counted in every round"}


def weighted_mean(metrics: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """The clients' metrics averaged, weighted by their numbers of examples."""
    total = sum(n for n, _ in metrics) or 1
    return {k: sum(n * m[k] for n, m in metrics) / total for k in metrics[0][1]} if metrics else {}


class ScreenedFedAvgM(Screened, FedAvgM):
    """FedAvg with server momentum (Hsu et al. 2019): the mean update ``Δ_t`` feeds a momentum
    buffer ``v_t = β v_{t-1} + Δ_t`` and the global model moves by ``v_t`` (β = ``SERVER_MOMENTUM``),
    so directions the clients agree on round after round accumulate. A resumed run's buffer starts at 0."""


class ScreenedFedAdam(Screened, FedAdam):
    """FedAdam (Reddi et al., "Adaptive federated optimization", 2021): the mean update ``Δ_t`` is
    the server's pseudo-gradient for Adam, ``m_t = β1 m + (1-β1) Δ_t``, ``v_t = β2 v + (1-β2) Δ_t²``,
    and every coordinate moves by ``η m_t / (√v_t + τ)`` (bias-corrected; Flower's β 0.9, 0.99),
    so coordinates the clients move little still move about ``η`` a round once they agree
    (η = ``SERVER_LR``, τ = ``SERVER_TAU``). A resumed run's moments start at 0."""


SERVER_MOMENTUM = 0.9
SERVER_LR, SERVER_TAU = 1e-2, 1e-3  # FedAdam's server step and adaptivity (Reddi et al.'s tau)
STRATEGIES = {"fedavg": ScreenedFedAvg, "fedprox": ScreenedFedProx, "fedavgm": ScreenedFedAvgM, "fedadam": ScreenedFedAdam}


def make_strategy(name: str, initial: list[np.ndarray], *, clients: int, fraction: float = 1.0, mu: float = 0.01,
                  config: dict[str, Scalar] | None = None, min_clients: int | None = None) -> Screened:
    """Flower's ``name`` strategy (fedavg | fedprox, ``mu`` its proximal strength | fedavgm | fedadam) starting from
    ``initial``, sampling ``fraction`` of the ``clients`` each round and sending them ``config``;
    no federated evaluation. The first round starts once all ``clients`` are connected, later ones
    once ``min_clients`` are (default: all), so with fewer a federation goes on when clients drop out."""
    if name not in STRATEGIES:
        raise HeadstartError(f"unknown strategy {name!r}; available: {', '.join(STRATEGIES)}")
    if not 0 < fraction <= 1:
        raise HeadstartError(f"fraction of clients per round must be in (0, 1], not {fraction}")
    if min_clients is not None and not 1 <= min_clients <= clients:
        raise HeadstartError(f"min_clients must be between 1 and the {clients} clients, not {min_clients}")
    least = max(1, round(fraction * clients))
    options: dict[str, Any] = dict(fraction_fit=fraction, fraction_evaluate=0.0, min_fit_clients=least, min_evaluate_clients=0,
                                   min_available_clients=clients, initial_parameters=ndarrays_to_parameters(initial),
                                   fit_metrics_aggregation_fn=weighted_mean, on_fit_config_fn=lambda server_round: dict(config or {}))
    if name == "fedprox":
        options["proximal_mu"] = mu
    if name == "fedavgm":
        options["server_momentum"] = SERVER_MOMENTUM
    if name == "fedadam":
        options |= {"eta": SERVER_LR, "tau": SERVER_TAU}
    return STRATEGIES[name](shapes=[tuple(a.shape) for a in initial], later_clients=min_clients, **options)
