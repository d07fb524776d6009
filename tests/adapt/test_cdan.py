import math

import pytest
import torch

from headstart.adapt import ConditionalDomainAdversarialLoss, entropy_weights


def batch(n: int, d: int, c: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g).requires_grad_(), (3 * torch.randn(n, c, generator=g)).requires_grad_()


def test_exact_multilinear_map_is_the_flattened_outer_product():
    cdan = ConditionalDomainAdversarialLoss(feature_dim=8, num_classes=3, hidden=16)
    f, logits = batch(5, 8, 3, seed=0)
    h = cdan.multilinear_map(f, logits)
    p = logits.softmax(1)
    assert not cdan.randomized and h.shape == (5, 24)
    assert cdan.discriminator[0].in_features == 24
    assert torch.allclose(h[2, 1 * 8 + 5], p[2, 1] * f[2, 5])


def test_randomized_map_is_used_when_the_product_is_wide_and_keeps_inner_products():
    cdan = ConditionalDomainAdversarialLoss(feature_dim=256, num_classes=31, randomized_dim=4096, hidden=16)
    assert cdan.randomized  # 256 * 31 = 7936 > 4096
    assert cdan.discriminator[0].in_features == 4096
    f, logits = batch(6, 256, 31, seed=1)
    h = cdan.multilinear_map(f, logits)
    assert h.shape == (6, 4096)
    # E[<T(f,p), T(f',p')>] = <f,f'> <p,p'>: the Gram matrices agree up to sampling error ~ 1/sqrt(r)
    p = logits.softmax(1)
    exact = (f @ f.T) * (p @ p.T)
    assert torch.linalg.norm(h @ h.T - exact) < 0.15 * torch.linalg.norm(exact)


def test_randomized_projection_is_seeded():
    a = ConditionalDomainAdversarialLoss(100, 50, hidden=8, seed=3)
    b = ConditionalDomainAdversarialLoss(100, 50, hidden=8, seed=3)
    assert torch.equal(a.feature_projection, b.feature_projection)
    assert "prediction_projection" in a.state_dict()


def test_entropy_weights_range():
    c = 4
    uniform = entropy_weights(torch.zeros(1, c))
    assert uniform.item() == pytest.approx(1 + 1 / c)  # H = log C -> 1 + e^-log C
    confident = entropy_weights(torch.tensor([[50.0, 0, 0, 0]]))
    assert confident.item() == pytest.approx(2.0)  # H = 0
    w = entropy_weights(torch.randn(100, c, generator=torch.Generator().manual_seed(0)) * 3)
    assert w.min() >= 1 + 1 / c - 1e-6 and w.max() <= 2.0


def test_loss_trains_features_but_not_the_classifier_logits():
    cdan = ConditionalDomainAdversarialLoss(feature_dim=8, num_classes=3, hidden=16)
    cdan.step(0.5)
    (f_s, g_s), (f_t, g_t) = batch(6, 8, 3, seed=2), batch(4, 8, 3, seed=3)
    loss = cdan(f_s, f_t, g_s, g_t)
    assert loss.ndim == 0 and math.isfinite(loss.item())
    with torch.no_grad():  # the discriminator's accuracy by hand: source scores > 0, target scores <= 0
        scores = cdan.discriminator(torch.cat([cdan.multilinear_map(f_s, g_s), cdan.multilinear_map(f_t, g_t)])).squeeze(-1)
    expected = (torch.cat([scores[:6] > 0, scores[6:] <= 0])).float().mean().item()
    assert cdan.domain_accuracy == pytest.approx(expected)
    loss.backward()
    assert f_s.grad.abs().sum() > 0 and f_t.grad.abs().sum() > 0
    assert g_s.grad is None and g_t.grad is None


def test_entropy_conditioning_reweights_only_when_confidence_varies():
    cdan = ConditionalDomainAdversarialLoss(feature_dim=8, num_classes=3, hidden=16)
    (f_s, g_s), (f_t, g_t) = batch(6, 8, 3, seed=4), batch(6, 8, 3, seed=5)

    def both_losses(logits_s, logits_t):
        losses = []
        for conditioning in (True, False):
            cdan.entropy_conditioning = conditioning
            losses.append(cdan(f_s, f_t, logits_s, logits_t).item())
        return losses

    # equal confidence everywhere: the normalised weights are uniform, as without conditioning
    same_confidence = torch.tensor([2.0, 0, 0]).repeat(6, 1)
    conditioned, plain = both_losses(same_confidence, same_confidence.roll(1, dims=1))
    assert conditioned == pytest.approx(plain)
    conditioned, plain = both_losses(g_s, g_t)
    assert conditioned != pytest.approx(plain)
