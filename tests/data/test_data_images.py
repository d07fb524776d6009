"""load_image: files of every supported mode and arrays of every supported shape come out RGB."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headstart.data import load_image
from headstart.errors import DataError


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def test_every_mode_and_format_comes_out_rgb(tmp_path):
    rgb = Image.new("RGB", (30, 20), (10, 200, 30))
    files = [
        save(rgb, tmp_path / "rgb.jpg"),
        save(rgb, tmp_path / "rgb.bmp"),
        save(rgb.convert("L"), tmp_path / "gray.png"),
        save(rgb.convert("P"), tmp_path / "palette.png"),
        save(Image.new("LA", (7, 9), (80, 255)), tmp_path / "gray_alpha.png"),
        save(Image.new("RGBA", (64, 48), (0, 0, 255, 255)), tmp_path / "rgba.png"),
        save(Image.new("L", (5, 5), 3).convert("1"), tmp_path / "bilevel.bmp"),
    ]
    images = [load_image(f) for f in files]
    assert all(image.mode == "RGB" for image in images)
    assert [image.size for image in images] == [(30, 20)] * 4 + [(7, 9), (64, 48), (5, 5)]
    assert images[1].getpixel((0, 0)) == (10, 200, 30)  # BMP is lossless
    assert images[5].getpixel((3, 3)) == (0, 0, 255)


def test_transparency_is_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (2, 1))
    rgba.putpixel((0, 0), (255, 0, 0, 0))  # fully transparent red
    rgba.putpixel((1, 0), (255, 0, 0, 128))  # half-transparent red
    image = load_image(save(rgba, tmp_path / "a.png"))
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (255, 127, 127)

    palette = Image.new("P", (2, 1), 0)
    palette.putpixel((1, 0), 1)
    loaded = load_image(save(palette, tmp_path / "p.png", transparency=0))
    assert loaded.getpixel((0, 0)) == (255, 255, 255)


def test_16_bit_grayscale_is_rescaled_not_clipped(tmp_path):
    image = Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16))
    loaded = load_image(save(image, tmp_path / "deep.png"))
    assert [loaded.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(Image.new("RGB", (40, 20)), tmp_path / "phone.jpg", exif=exif)
    assert load_image(path).size == (20, 40)


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 1), (6, 5, 3), (6, 5, 4)])
def test_uint8_arrays_of_every_shape(shape):
    array = np.full(shape, 200, dtype=np.uint8)
    image = load_image(array)
    assert image.mode == "RGB" and image.size == (5, 6)
    assert image.getpixel((0, 0)) == ((212,) * 3 if shape[-1] == 4 else (200,) * 3)  # 200 at alpha 200/255 over white


@pytest.mark.parametrize("array", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.uint8), np.zeros(4, np.uint8)])
def test_unsupported_arrays_are_refused(array):
    with pytest.raises(DataError, match="image arrays must be"):
        load_image(array)


def test_corrupt_truncated_and_missing_files_name_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"definitely not a JPEG" * 10)
    full = save(Image.effect_noise((64, 64), 50).convert("RGB"), tmp_path / "full.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    for path in (corrupt, truncated, tmp_path / "missing.png"):
        with pytest.raises(DataError, match=path.name):
            load_image(path)
