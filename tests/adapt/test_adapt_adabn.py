"""AdaBN on EfficientNet-Lite0's real ImageNet weights and scikit-learn digits."""

import copy

import pytest
import torch

from headstart.adapt.adabn import (
    batchnorm_statistics,
    reestimate_batchnorm,
    state_identity,
)
from headstart.data.catalogue import load_dataset
from headstart.errors import HeadstartError
from headstart.zoo import load_backbone

BATCH = 4


@pytest.fixture(scope="module")
def lite():
    return load_backbone("efficientnet-lite0", resize="stretch")


@pytest.fixture(scope="module")
def digits():
    return list(load_dataset("digits").inputs[:8])


@pytest.fixture(scope="module")
def adapted(lite, digits, tmp_path_factory):
    net = copy.deepcopy(lite)
    reestimate_batchnorm(net, digits, batch_size=BATCH, cache_dir=tmp_path_factory.mktemp("bn"))
    return net


def test_stem_statistics_are_the_averages_of_the_target_batch_statistics(lite, adapted, digits):
    conv = lite.groups[0][0]
    with torch.no_grad():
        batches = [conv(lite.preprocess(digits[i : i + BATCH])) for i in range(0, len(digits), BATCH)]
    means = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    variances = torch.stack([b.transpose(0, 1).flatten(1).var(1) for b in batches]).mean(0)  # unbiased per batch
    stem = adapted.groups[0][1]
    # channels-last convolutions (as in extraction) differ from these in the 4th digit
    assert torch.allclose(stem.running_mean, means, rtol=1e-3, atol=1e-4)
    assert torch.allclose(stem.running_var, variances, rtol=1e-3, atol=1e-4)


def test_statistics_move_towards_the_target_and_weights_stay(lite, adapted, digits):
    def standardised_mean_at_head(net):
        """|mean| over the target of the head BatchNorm's standardised input, per channel, in eval mode."""
        captured = {}
        bn = net.groups[-1][1]
        handle = bn.register_forward_hook(lambda m, args, out: captured.setdefault("x", args[0]))
        with torch.no_grad():
            net.eval()(net.preprocess(digits))
        handle.remove()
        z = (captured["x"].mean(dim=(0, 2, 3)) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
        return z.abs().mean().item()

    before, after = standardised_mean_at_head(lite), standardised_mean_at_head(adapted)
    assert after < 0.3 * before  # measured 0.47 -> 0.06 (ImageNet statistics -> the digits')
    for (name, p), q in zip(lite.named_parameters(), adapted.parameters()):
        assert torch.equal(p, q), name
    momenta = [m.momentum for m in adapted.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert momenta == [m.momentum for m in lite.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert not adapted.training


def test_statistics_are_cached_by_weights_and_inputs(lite, adapted, digits, tmp_path):
    first = copy.deepcopy(lite)
    reestimate_batchnorm(first, digits, batch_size=BATCH, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.safetensors")
    second = copy.deepcopy(lite)
    reestimate_batchnorm(second, digits, batch_size=BATCH, cache_dir=tmp_path)
    for key, value in batchnorm_statistics(first).items():
        assert torch.equal(value, batchnorm_statistics(second)[key])  # loaded, not recomputed
        assert torch.equal(value, batchnorm_statistics(adapted)[key])  # computed alike elsewhere
    reestimate_batchnorm(copy.deepcopy(lite), digits[:4], batch_size=BATCH, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.safetensors"))) == 2  # other inputs: other statistics


def test_state_identity_names_the_statistics_and_is_restored(lite, adapted):
    with state_identity(lite):
        pretrained = lite.weights_hash
    with state_identity(adapted):
        renamed = adapted.weights_hash
    assert pretrained != renamed
    assert pretrained.startswith(lite.weights_hash[:16])
    assert adapted.weights_hash == lite.weights_hash


def test_a_backbone_without_batchnorm_is_refused():
    with pytest.raises(HeadstartError, match="BatchNorm"):
        reestimate_batchnorm(load_backbone("minilm-l6"), ["a sentence", "another one"])
