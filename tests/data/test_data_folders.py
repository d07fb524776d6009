"""read_image_folder: classes from sub-folders, lazy paths, and corrupt files (fail or skip)."""

import logging
from pathlib import Path

import pytest
from PIL import Image

from headstart.data import load_image, read_image_folder
from headstart.errors import DataError


@pytest.fixture
def folder(tmp_path) -> Path:
    """cat: 3 images of mixed sizes/modes/extensions; dog: 2, one nested; plus files to ignore."""
    root = tmp_path / "pets"
    for sub in ("cat", "dog/puppies", ".cache", "__MACOSX"):
        (root / sub).mkdir(parents=True)
    Image.new("RGB", (32, 24), "red").save(root / "cat" / "a.JPG")
    Image.new("L", (10, 10), 90).save(root / "cat" / "b.png")
    Image.new("P", (5, 7)).save(root / "cat" / "c.Bmp")
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(root / "dog" / "d.png")
    Image.new("RGB", (8, 8)).save(root / "dog" / "puppies" / "e.jpeg")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / "._a.JPG").write_bytes(b"macOS resource fork")
    (root / "__MACOSX" / "junk.png").write_bytes(b"junk")
    Image.new("RGB", (4, 4)).save(root / ".cache" / "thumb.png")
    return root


def test_classes_are_sorted_folders_and_inputs_are_paths(folder):
    ds = read_image_folder(folder)
    assert ds.classes == ["cat", "dog"] and ds.modality == "image" and ds.name == "pets"
    assert [p.relative_to(folder).as_posix() for p in ds.inputs] == [
        "cat/a.JPG", "cat/b.png", "cat/c.Bmp", "dog/d.png", "dog/puppies/e.jpeg"
    ]
    assert ds.labels.tolist() == [0, 0, 0, 1, 1] and ds.meta["skipped"] == []
    assert all(isinstance(p, Path) for p in ds.inputs)
    assert {load_image(p).mode for p in ds.inputs} == {"RGB"}


@pytest.fixture
def broken(folder) -> tuple[Path, Path]:
    """A truncated PNG and a corrupt JPEG in the cat folder."""
    noise = folder / "cat" / "noise.png"
    Image.effect_noise((64, 64), 40).save(noise)
    noise.write_bytes(noise.read_bytes()[:300])
    corrupt = folder / "cat" / "zz.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff garbage")
    return noise, corrupt


def test_fail_names_the_first_bad_file(folder, broken):
    with pytest.raises(DataError, match=r"noise\.png: not a readable image"):
        read_image_folder(folder)


def test_skip_drops_and_reports_bad_files(folder, broken, caplog):
    with caplog.at_level(logging.WARNING):
        ds = read_image_folder(folder, on_error="skip")
    assert ds.meta["skipped"] == list(broken)
    assert len(ds) == 5 and ds.labels.tolist() == [0, 0, 0, 1, 1]
    assert sum("skipping" in r.message for r in caplog.records) == 2
    assert not set(broken) & set(ds.inputs)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DataError, match="nowhere: no such folder"):
        read_image_folder(tmp_path / "nowhere")
    Image.new("RGB", (4, 4)).save(tmp_path / "loose.png")
    with pytest.raises(DataError, match="no class sub-folders"):
        read_image_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(DataError, match=r"empty_class: no image files \(\.bmp, \.jpeg, \.jpg, \.png\)"):
        read_image_folder(tmp_path)


def test_only_bad_files_with_skip_is_an_empty_dataset(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="empty"):
        read_image_folder(tmp_path, on_error="skip")

