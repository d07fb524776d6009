"""Federation on Flower with real MiniLM features of BBC News articles: only the trainable part
travels, bad updates are rejected, and the global model is an ordinary headstart artifact."""

import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.client import NumPyClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import headstart  # noqa: E402
import headstart.artifacts  # noqa: E402
from headstart.cli import app  # noqa: E402
from headstart.data.catalogue import load_dataset  # noqa: E402
from headstart.data.dataset import Dataset  # noqa: E402
from headstart.data.splits import sample_shots  # noqa: E402
from headstart.errors import HeadstartError  # noqa: E402
from headstart.federated.accounting import gaussian_epsilon  # noqa: E402
from headstart.federated.client import HeadstartClient  # noqa: E402
from headstart.federated.partition import partition  # noqa: E402
from headstart.federated.server import Federation, serve  # noqa: E402
from headstart.federated.shared import SharedModel, nbytes  # noqa: E402
from headstart.federated.simulation import simulate  # noqa: E402
from headstart.recipe import Recipe  # noqa: E402

SHORT = 300  # characters kept of each article: the real text's start, four times cheaper to encode


def short(data: Dataset) -> Dataset:
    return Dataset([t[:SHORT] for t in data.inputs], data.labels, data.classes, data.modality, name=data.name)


@pytest.fixture(scope="module")
def articles():
    """(train, test): 8 and 10 articles per topic."""
    return short(sample_shots(load_dataset("bbc_news", "train"), 8, seed=0)), short(sample_shots(load_dataset("bbc_news", "test"), 10, seed=0))


def write_csv(path, data, site=None):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "site"])
        for i, (text, label) in enumerate(zip(data.inputs, data.labels)):
            writer.writerow([text, data.classes[label], f"site{i % 3}" if site else ""])
    return path


def test_cli_federates_three_sites_into_an_artifact_that_load_and_evaluate_open_and_personalises(articles, tmp_path):
    train, test = articles
    run = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["federate", str(write_csv(tmp_path / "train.csv", train, site=True)), "--partition", "by:site",
                                 "--rounds", "2", "--epochs", "6", "--personalise", "--no-progress", "--out", str(run)])
    assert result.exit_code == 0, result.output
    fed = json.loads((run / "config.json").read_text())["info"]["federated"]
    assert fed["client_sizes"] == [10, 10, 10] and len(fed["rounds"]) == 2  # a quarter of each site's 14, 13, 13 held out
    personal = fed["personalised"]
    assert [p["n_test"] for p in personal] == [4, 3, 3] and "personalised accuracy" in result.output
    assert any(p["personalised"] != p["global"] for p in personal)  # each client trained its own further
    for record in fed["rounds"]:  # the head (5 x 384 + 5 floats, serialised) each way, nothing else
        assert record["bytes_sent"] == record["bytes_received"]
        assert 3 * fed["trainable_bytes"] <= record["bytes_sent"] < 3 * (fed["trainable_bytes"] + 1024)  # + .npy headers
    assert fed["trainable_bytes"] == (5 * 384 + 5) * 4 and fed["trainable_share"] < 1e-4
    model = headstart.load(run)
    assert model.evaluate(test)["accuracy"] > 0.5  # chance: 0.2
    evaluated = runner.invoke(app, ["evaluate", str(run), str(write_csv(tmp_path / "test.csv", test))])
    assert evaluated.exit_code == 0 and "accuracy" in evaluated.output


class Faulty(NumPyClient):
    """Sends the global state back spoilt: NaN in it, or one tensor of the wrong shape."""

    def __init__(self, fault: str) -> None:
        self.fault = fault

    def fit(self, parameters, config):
        spoilt = [p.copy() for p in parameters]
        if self.fault == "nan":
            spoilt[0][0] = np.nan
        else:
            spoilt[1] = spoilt[1][:, :10]
        return spoilt, 1000, {"train_loss": 0.0}


def test_nan_and_wrong_shaped_updates_are_rejected_and_the_round_goes_on(articles):
    train, test = articles
    recipe = Recipe.build(method="probe", epochs=6, head_lr=1e-2)
    parts = partition(train, 2, "iid")
    clients = [HeadstartClient(part).to_client() for part in parts] + [Faulty("nan").to_client(), Faulty("shape").to_client()]
    model = simulate(parts, recipe, rounds=2, clients=clients)
    for record in model.info["federated"]["rounds"]:
        assert sorted(r["reason"].split(" ")[0] for r in record["rejected"]) == ["1", "wrong"] and record["failures"] == 2
    assert np.isfinite(model.model.head.weight.detach().numpy()).all()
    assert model.evaluate(test)["accuracy"] > 0.5


@pytest.mark.parametrize("method, options", [("lora", {}), ("finetune", {"unfreeze": 1})])
def test_only_adapters_or_unfrozen_groups_travel(method, options):
    shared = SharedModel.build(Recipe.build(method=method, **options), 5)
    top = f"backbone.groups.{shared.model.backbone.num_groups - 1}."
    keep = (lambda k: "lora_" in k) if method == "lora" else (lambda k: k.startswith(top))
    assert all(keep(k) or k.startswith("head.") for k in shared.keys)
    assert nbytes(shared.arrays()) < (0.01 if method == "lora" else 0.1) * shared.model_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_and_three_client_processes_federate_over_grpc_and_survive_one_dying(articles, tmp_path):
    """The server runs here (``headstart federate server``'s ``serve``), each client in its own
    process; the first is killed once round 2 has picked it, and the round goes on with the others;
    round 3 needs only two clients (``min_clients``), so the federation does not wait for the lost one."""
    train, test = articles
    address = f"127.0.0.1:{free_port()}"
    sites = [write_csv(tmp_path / f"site{i}.csv", part) for i, part in enumerate(partition(train, 3, "iid"))]
    command = [sys.executable, "-m", "headstart", "federate", "client", "--address", address]
    clients = [subprocess.Popen([*command, str(site)], env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for site in sites]
    try:
        federation = Federation(Recipe.build(method="probe", epochs=6, head_lr=1e-2), train.classes, 5, clients=3, min_clients=2)
        configure = federation.strategy.configure_fit

        def kill_in_round_two(server_round, parameters, client_manager):
            instructions = configure(server_round, parameters, client_manager)
            if server_round == 2:
                clients[0].kill()
            return instructions

        federation.strategy.configure_fit = kill_in_round_two
        model = serve(address, federation, rounds=3, round_timeout=120, progress=False)
        errors = [c.communicate(timeout=30)[1] for c in clients[1:]]
    finally:
        for client in clients:
            client.kill()
    assert [c.returncode for c in clients[1:]] == [0, 0], errors
    fed = model.info["federated"]
    assert [(r["clients"], r["failures"], len(r["examples"])) for r in fed["rounds"]] == [(3, 0, 3), (3, 1, 2), (2, 0, 2)]
    assert model.evaluate(test)["accuracy"] > 0.5


def test_a_restarted_server_resumes_from_its_last_rounds_checkpoint(articles, tmp_path):
    train, _ = articles
    recipe = Recipe.build(method="probe", epochs=6, head_lr=1e-2)
    parts = partition(train, 2, "iid")
    whole = simulate(parts, recipe, rounds=2)
    simulate(parts, recipe, rounds=1, checkpoint=tmp_path / "ck")  # the server stops after round 1
    after_one = headstart.artifacts.read_artifact(tmp_path / "ck")
    assert after_one.config["round"] == 1
    resumed = simulate(parts, recipe, rounds=2, checkpoint=tmp_path / "ck", resume=True)
    assert [r["round"] for r in resumed.info["federated"]["rounds"]] == [1, 2]
    assert headstart.artifacts.read_artifact(tmp_path / "ck").config["round"] == 2
    weights = [m.model.head.weight.detach().numpy() for m in (whole, resumed)]
    np.testing.assert_allclose(*weights, atol=1e-5)
    with pytest.raises(HeadstartError, match="2 rounds done"):
        simulate(parts, recipe, rounds=2, checkpoint=tmp_path / "ck", resume=True)


def test_central_differential_privacy_clips_adds_noise_and_checkpoints_the_noised_model(articles, tmp_path):
    train, test = articles
    recipe = Recipe.build(method="probe", epochs=6, head_lr=1e-2)
    parts = partition(train, 2, "iid")
    plain = simulate(parts, recipe, rounds=1)
    private = simulate(parts, recipe, rounds=1, dp_noise=1.0, dp_clip=0.5, checkpoint=tmp_path / "ck")
    dp = private.info["federated"]["privacy"]
    assert dp["noise_multiplier"] == 1.0 and dp["clipping_norm"] == 0.5 and dp["sampled_clients"] == 2
    assert dp["noise_std"] == pytest.approx(0.25) and dp["rounds"] == 1
    assert dp["epsilon"] == pytest.approx(gaussian_epsilon(1.0, 1)) and dp["delta"] == 1e-5
    assert plain.info["federated"]["privacy"] is None
    shared = Federation(recipe, train.classes, len(train.classes), 2).model
    start, state = dict(zip(shared.keys, shared.arrays())), private.model.state_dict()
    moved = np.sqrt(sum(((state[k].numpy() - start[k]) ** 2).sum() for k in start))
    assert moved > 2.0  # the clipped aggregate moves at most 0.5: the rest is the noise (std 0.25 on ~2k values)
    saved = headstart.artifacts.read_artifact(tmp_path / "ck")  # the checkpoint holds the noised aggregate
    for key in start:
        np.testing.assert_allclose(saved.tensors[key].numpy(), state[key].numpy(), atol=1e-6)
    with pytest.raises(HeadstartError, match="clipping norm > 0"):
        simulate(parts, recipe, rounds=1, dp_noise=1.0, dp_clip=0.0)
    result = CliRunner().invoke(app, ["federate", str(write_csv(tmp_path / "train.csv", train)), "--clients", "2", "--rounds", "1",
                                      "--dp-noise", "0.5", "--dp-clip", "2", "--no-progress", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    eps = f"{gaussian_epsilon(0.5, 1):.3g}"
    assert f"noise multiplier 0.5 (std 0.5 on the aggregate of 2 clients): epsilon {eps} at delta 1e-05 over 1 rounds" in " ".join(result.output.split())


def test_private_aggregation_weighs_every_client_the_same(articles):
    train, _ = articles
    recipe = Recipe.build(method="probe", epochs=2, head_lr=1e-2)
    parts = [train.subset(np.arange(0, 10)), train.subset(np.arange(10, len(train)))]  # unequal sizes: 10 and 30
    assert len(parts[1]) == 3 * len(parts[0])
    alone = [simulate([p], recipe, rounds=1).model.head.weight.detach().numpy() for p in parts]
    weighted = simulate(parts, recipe, rounds=1).model.head.weight.detach().numpy()
    unweighted = simulate(parts, recipe, rounds=1, dp_noise=0.0, dp_clip=1e9).model.head.weight.detach().numpy()
    sizes = np.array([len(p) for p in parts], float)
    np.testing.assert_allclose(weighted, (sizes[0] * alone[0] + sizes[1] * alone[1]) / sizes.sum(), atol=1e-5)
    np.testing.assert_allclose(unweighted, (alone[0] + alone[1]) / 2, atol=1e-5)


def test_server_momentum_adds_the_last_rounds_step(articles):
    train, _ = articles
    recipe = Recipe.build(method="probe", epochs=2, head_lr=1e-2)
    parts = partition(train, 2, "iid")
    start = Federation(recipe, train.classes, len(train.classes), 2).model.arrays()
    first, second = (simulate(parts, recipe, rounds=r).model.head.weight.detach().numpy() for r in (1, 2))
    momentum = simulate(parts, recipe, rounds=2, strategy="fedavgm").model.head.weight.detach().numpy()
    weight0 = next(a for a in start if a.shape == first.shape)
    # round 2 starts from the same model either way; momentum adds 0.9 x round 1's step to its mean update
    np.testing.assert_allclose(momentum, second + 0.9 * (first - weight0), atol=1e-5)
