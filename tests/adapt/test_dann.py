import pytest
import torch
from torch import nn

from headstart.adapt import DomainAdversarialLoss, proxy_a_distance, warm_start

DIM, FEATURES, STEPS = 8, 4, 300


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny matrices: threading costs more than it gains on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def shifted_blobs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 400-point Gaussian blobs in 8-D, the target shifted by 4 along the first axis."""
    g = torch.Generator().manual_seed(seed)
    source, target = torch.randn(400, DIM, generator=g), torch.randn(400, DIM, generator=g)
    target[:, 0] += 4.0
    return source, target


def train(adversary: DomainAdversarialLoss, seed: int) -> tuple[float, float, float]:
    """Train a linear feature extractor and the discriminator with the DANN loss alone.

    Returns the proxy A-distance of its features before and after, and the
    discriminator's mean accuracy over the last 50 steps.
    """
    source, target = shifted_blobs(seed)
    torch.manual_seed(seed)
    extractor = nn.Linear(DIM, FEATURES)
    optimizer = torch.optim.Adam([*extractor.parameters(), *adversary.parameters()], lr=1e-3)
    with torch.no_grad():
        before = proxy_a_distance(extractor(source).numpy(), extractor(target).numpy())
    g = torch.Generator().manual_seed(seed)
    accuracies = []
    for step in range(STEPS):
        adversary.step(step / STEPS)
        idx = torch.randint(0, len(source), (64,), generator=g)
        loss = adversary(extractor(source[idx]), extractor(target[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracies.append(adversary.domain_accuracy)
    with torch.no_grad():
        after = proxy_a_distance(extractor(source).numpy(), extractor(target).numpy())
    return before, after, sum(accuracies[-50:]) / 50


@pytest.mark.parametrize("seed", [0, 1])
def test_dann_aligns_the_domains(seed):
    before, after, accuracy = train(DomainAdversarialLoss(FEATURES, hidden=32), seed)
    assert before > 1.2  # measured 1.48, 1.62: a linear classifier separates the raw features
    assert after < 0.5  # measured 0.03, 0.15
    assert accuracy < 0.65  # the discriminator is pushed towards chance


def test_discriminator_alone_separates_the_domains():
    # reversal weight 0 throughout: the discriminator learns, the features receive no gradient
    adversary = DomainAdversarialLoss(FEATURES, hidden=32, lo=0.0, hi=0.0)
    before, after, accuracy = train(adversary, seed=0)
    assert after == pytest.approx(before)
    # it reaches the accuracy of a linear classifier on these features, 1 - err = 0.5 + d_A / 4 (0.87)
    assert accuracy > 0.5 + before / 4 - 0.05


def test_step_follows_the_warm_start_schedule():
    adversary = DomainAdversarialLoss(FEATURES, hidden=8, lo=0.1, hi=0.9)
    assert adversary.reversal.coeff == pytest.approx(0.1)
    adversary.step(0.25)
    assert adversary.reversal.coeff == pytest.approx(warm_start(0.25, 0.1, 0.9))


def test_each_domain_counts_half_whatever_the_batch_sizes():
    adversary = DomainAdversarialLoss(3, hidden=8)
    g = torch.Generator().manual_seed(0)
    f_s, f_t = torch.randn(6, 3, generator=g), torch.randn(2, 3, generator=g)
    loss = adversary(f_s, f_t)
    logits = adversary.discriminator(torch.cat([f_s, f_t]))  # same batch, same batch-norm statistics
    bce = nn.functional.binary_cross_entropy_with_logits
    expected = (bce(logits[:6], torch.ones(6)) + bce(logits[6:], torch.zeros(2))) / 2
    assert loss.item() == pytest.approx(expected.item())
    correct = (logits[:6] > 0).sum() + (logits[6:] <= 0).sum()
    assert adversary.domain_accuracy == pytest.approx(correct.item() / 8)
