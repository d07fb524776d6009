"""Federated LoRA with a frozen A (FFA-LoRA) and FedAdam, on real MiniLM weights and BBC News text."""

import json

import numpy as np
import torch
import pytest

pytest.importorskip("flwr")

from headstart.data.catalogue import load_dataset  # noqa: E402
from headstart.data.dataset import Dataset  # noqa: E402
from headstart.data.splits import sample_shots  # noqa: E402
from headstart.errors import HeadstartError  # noqa: E402
from headstart.federated.client import HeadstartClient  # noqa: E402
from headstart.federated.partition import partition  # noqa: E402
from headstart.federated.server import Federation  # noqa: E402
from headstart.federated.shared import SharedModel, nbytes  # noqa: E402
from headstart.federated.simulation import simulate  # noqa: E402
from headstart.federated.strategy import SERVER_LR, SERVER_TAU  # noqa: E402
from headstart.recipe import Recipe  # noqa: E402

FROZEN_A = Recipe.build(method="lora", lora_freeze_a=True, lora_groups=1, epochs=1, batch_size=8)


@pytest.fixture(scope="module")
def parts():
    """Two clients of 10 and 5 short BBC News articles (the first 200 characters)."""
    data = sample_shots(load_dataset("bbc_news", "train"), 3, seed=0)
    data = Dataset([t[:200] for t in data.inputs], data.labels, data.classes, data.modality, name=data.name)
    return [data.subset(np.arange(10)), data.subset(np.arange(10, 15))]


def adapters(model) -> dict[str, dict[str, np.ndarray]]:
    """Each adapted module's A and B."""
    found: dict[str, dict[str, np.ndarray]] = {}
    for name, p in model.backbone.named_parameters():
        if ".lora_" in name:
            module, _, rest = name.partition(".lora_")
            found.setdefault(module, {})[rest[0]] = p.detach().numpy().copy()
    return found


def test_with_a_frozen_a_only_b_travels_and_the_global_adapter_is_the_mean_of_the_clients_products(parts):
    start = SharedModel.build(FROZEN_A, 5)
    both = SharedModel.build(Recipe.build(method="lora", lora_groups=1), 5)
    assert not any("lora_A" in k for k in start.keys) and any("lora_A" in k for k in both.keys)
    head = 5 * 384 + 5
    assert 2 * (nbytes(start.arrays()) - 4 * head) == nbytes(both.arrays()) - 4 * head  # half: B is 384 x r, A r x 384
    options = {"rounds": 1, "logit_adjust": True, "global_schedule": True}  # each client trains as alone, whatever the options
    alone = [adapters(simulate([p], FROZEN_A, **options).model) for p in parts]
    run = simulate(parts, FROZEN_A, **options)
    assert run.info["federated"]["logit_adjust"] and run.info["federated"]["global_schedule"]
    federated = adapters(run.model)
    sizes = np.array([len(p) for p in parts], float) / sum(len(p) for p in parts)
    for module, ab in adapters(start.model).items():
        assert all(np.array_equal(a[module]["A"], ab["A"]) for a in (federated, *alone))  # A never moved
        assert not np.allclose(alone[0][module]["B"], alone[1][module]["B"])  # the clients trained apart
        mean_of_products = sum(w * a[module]["B"] @ a[module]["A"] for w, a in zip(sizes, alone))
        np.testing.assert_allclose(federated[module]["B"] @ federated[module]["A"], mean_of_products, atol=1e-7)


def test_a_client_whose_frozen_a_differs_from_the_servers_is_refused(parts):
    config = Federation(FROZEN_A, parts[0].classes, 5, 2).run_config()
    other = Recipe.build(method="lora", lora_freeze_a=True, lora_groups=1, epochs=1, seed=1)
    with pytest.raises(HeadstartError, match="fixed tensors"):
        HeadstartClient(parts[0]).build({**config, "recipe": json.dumps(other.to_dict())})


def test_fedadam_moves_every_coordinate_by_the_bias_corrected_server_step(parts):
    recipe = Recipe.build(method="probe", epochs=2, head_lr=1e-2)
    clients = partition(parts[0], 2, "iid")
    start = Federation(recipe, parts[0].classes, 5, 2).model.model.head.weight.detach().numpy()
    mean = simulate(clients, recipe, rounds=1).model.head.weight.detach().numpy()
    adam = simulate(clients, recipe, rounds=1, strategy="fedadam").model.head.weight.detach().numpy()
    delta = mean - start  # round 1: m = 0.1 delta, v = 0.01 delta^2 (Flower's betas 0.9, 0.99)
    step = SERVER_LR * np.sqrt(1 - 0.99**2) / (1 - 0.9**2)
    np.testing.assert_allclose(adam, start + step * 0.1 * delta / (np.sqrt(0.01 * delta**2) + SERVER_TAU), atol=1e-6)


def test_a_client_adjusts_by_its_laplace_smoothed_prior_so_a_single_class_client_still_trains(parts):
    recipe = Recipe.build(method="probe", epochs=3, head_lr=1e-2)
    two = parts[0].subset(np.flatnonzero(parts[0].labels < 2))  # a client with 2 of the 5 topics
    config = Federation(recipe, two.classes, 5, 1, logit_adjust=True).run_config()
    start = SharedModel.build(recipe, 5).arrays()
    counts = np.bincount(two.labels, minlength=5)
    np.testing.assert_allclose(HeadstartClient(two).log_prior(5).numpy(), np.log((counts + 1) / (counts.sum() + 5)), rtol=1e-6)
    one = two.subset(np.flatnonzero(two.labels == two.labels[0]))
    arrays, _, _ = HeadstartClient(one).fit(start, config)
    assert max(np.abs(a - s).max() for a, s in zip(arrays, start)) > 1e-3  # unlike with the empirical prior (log 0): no loss at all


def test_a_round_of_a_global_schedule_starts_where_the_rounds_before_it_left_the_learning_rate():
    from headstart.training.module import TransferModule, schedule
    from headstart.training.objective import SingleTask

    recipe = Recipe.build(method="probe", epochs=1, head_lr=1e-2)
    shared = SharedModel.build(recipe, 5)
    round_two = TransferModule(shared.model, shared.method, SingleTask("classification", 5), 0, 30, first_step=10)
    optimizer = round_two.configure_optimizers()["lr_scheduler"]["scheduler"].optimizer
    whole = schedule(torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-2), recipe, 30)
    for _ in range(10):
        whole.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(whole.get_last_lr()[0]) and 0 < whole.get_last_lr()[0] < 1e-2
