"""A tiny randomly initialised CLIP folder in Hugging Face format, as a user's local CLIP folder would be.

No CLIP weights ship in a registry package, so the tests build one: 2 vision and 2 text layers of
width 32, 32 px images in 8 px patches, a byte-level BPE vocabulary with a few merges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

MERGES = [("p", "h"), ("o", "t"), ("ph", "ot"), ("a", "t</w>"), ("c", "at</w>")]


def save_tiny_clip(directory: Path, seed: int = 0) -> Path:
    """Write config, weights, tokenizer and ``preprocessor_config.json`` into ``directory``."""
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for char in bytes_to_unicode().values():
            vocab[char + suffix] = len(vocab)
    for left, right in MERGES:
        vocab.setdefault(left + right, len(vocab))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=list(MERGES))
    layers = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={**layers, "vocab_size": len(vocab), "max_position_embeddings": 32,
                     "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
        vision_config={**layers, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(directory)
    return directory


COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def colour_photos(colour: str, count: int, seed: int = 0) -> list[Image.Image]:
    """``count`` noisy 40x48 images of one colour (so that each class is distinct but varied)."""
    rng = np.random.default_rng([seed, *COLOURS[colour]])
    base = np.array(COLOURS[colour], dtype=np.float64)
    images = []
    for _ in range(count):
        pixels = base + rng.normal(0, 25, size=(40, 48, 3))
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    return images


def write_photo_folder(root: Path, count: int, seed: int = 0) -> Path:
    """``root/<colour>/<i>.png``: an image-folder dataset of the three colours."""
    for colour in COLOURS:
        (root / colour).mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(colour_photos(colour, count, seed)):
            image.save(root / colour / f"{i}.png")
    return root
