import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression

from headstart.data import from_arrays
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.data.transforms import frame_like_mnist, pad_to_frame
from headstart.errors import DataError


def test_square_image_is_resized_into_the_box_and_bordered():
    image = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    framed = pad_to_frame(from_arrays(image[None], [0], ["a"], "image"), content=20, border=4, fill=7)
    out = framed.inputs[0]
    assert out.shape == (28, 28)
    expected = np.asarray(Image.fromarray(image).resize((20, 20), Image.Resampling.BICUBIC))
    assert np.array_equal(out[4:24, 4:24], expected)
    border = np.ones((28, 28), dtype=bool)
    border[4:24, 4:24] = False
    assert (out[border] == 7).all()


def test_aspect_ratio_is_kept_and_colour_too():
    wide = np.full((10, 20, 3), 200, dtype=np.uint8)  # H=10, W=20
    out = pad_to_frame(from_arrays(wide[None], [0], ["a"], "image"), content=20, border=2).inputs[0]
    assert out.shape == (24, 24, 3)
    rows_with_content = np.flatnonzero(out.any(axis=(1, 2)))
    assert rows_with_content.tolist() == list(range(7, 17))  # 10 rows centred in 24: 7 above, 7 below
    assert (out[7:17, 2:22] == 200).all()


def test_labels_classes_and_name_are_kept():
    digits = sample_shots(load_dataset("digits"), 2, seed=0)
    framed = frame_like_mnist(digits)
    assert framed.inputs.shape == (20, 28, 28)
    assert np.array_equal(framed.labels, digits.labels) and framed.classes == digits.classes
    assert framed.name == f"{digits.name}:framed" and framed.meta["frame"] == {"content": 20, "border": 4, "fill": 0}


def test_framing_digits_like_mnist_aligns_the_domains():
    """The issue's measure: pixels + logistic regression trained on MNIST, scored on digits."""
    mnist = sample_shots(load_dataset("mnist5k"), 100, seed=0)
    digits = load_dataset("digits")
    x_mnist = np.asarray(mnist.inputs).reshape(len(mnist), -1) / 255
    classifier = LogisticRegression(max_iter=300).fit(x_mnist, mnist.labels)

    def accuracy(images: np.ndarray) -> float:
        return classifier.score(images.reshape(len(digits), -1) / 255, digits.labels)

    upscaled = np.stack([np.asarray(Image.fromarray(x).resize((28, 28), Image.Resampling.BICUBIC)) for x in digits.inputs])
    plain, framed = accuracy(upscaled), accuracy(np.asarray(frame_like_mnist(digits).inputs))
    assert framed > plain + 0.2  # measured 0.21 -> 0.50 with 1,000 MNIST digits


def test_only_images_can_be_framed():
    with pytest.raises(DataError, match="needs images"):
        pad_to_frame(from_arrays(np.zeros((2, 3)), [0, 1], ["a", "b"]))
