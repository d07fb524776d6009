"""What a fit prints is the user's: library warnings they cannot act on are silenced
(``headstart.quiet``), a huge image gets one line, and epochs count from 1."""

from PIL import Image

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from tests.cli.helpers import run

LIBRARY_NOISE = ("LeafSpec", "validation_step", "in eval mode", "across ranks", "does not have many workers",
                 "Loaded pretrained weights", "DecompressionBomb")


def test_a_finetune_shows_epochs_from_1_and_no_library_warnings(reviews, tmp_path):
    done = run("fit", str(reviews), "--method", "finetune", "--unfreeze", "1", "--epochs", "2", "--set", "val_fraction=0",
               "--out", str(tmp_path / "run"))
    output = done.stdout + done.stderr
    assert "Epoch 1/2" in output and "Epoch 2/2" in output and "Epoch 0" not in output
    assert not [noise for noise in LIBRARY_NOISE if noise in output], output[-3000:]


def test_an_image_fit_notes_a_huge_image_once_and_nothing_else(tmp_path):
    data = sample_shots(load_dataset("digits", "train"), 2, seed=0)
    for i, (image, label) in enumerate(zip(data.inputs, data.labels)):
        (tmp_path / "images" / data.classes[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "images" / data.classes[label] / f"{i}.png")
    huge = tmp_path / "images" / data.classes[0] / "huge.png"
    Image.new("L", (10_000, 9_000), 255).save(huge)  # 90 M pixels: over Pillow's bomb limit, under twice it
    done = run("fit", str(tmp_path / "images"), "--out", str(tmp_path / "run"), "--no-progress")
    output = done.stdout + done.stderr
    assert not [noise for noise in LIBRARY_NOISE if noise in output], output[-3000:]
    assert output.count(f"{huge}: a huge image (10000 x 9000 pixels)") == 1
