"""A tiny randomly initialised BERT folder in Hugging Face format, optionally with code that must never run."""

import json
from pathlib import Path

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "shares", "fell", "the", "film", "was", "a", "triumph", "goal", "won"]


def save_tiny_bert(directory: Path, marker: Path | None = None) -> Path:
    """Save the folder; with ``marker``, its configs name a ``custom.py`` (``auto_map``) that creates
    ``marker`` when imported, as a hostile model folder would."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(directory)
    (directory / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt")).save_pretrained(directory)
    if marker is not None:
        (directory / "custom.py").write_text(f"open({str(marker)!r}, 'w').close()\nfrom transformers import BertModel as Custom\n")
        for name, auto in [("config.json", "AutoModel"), ("tokenizer_config.json", "AutoTokenizer")]:
            document = json.loads((directory / name).read_text())
            (directory / name).write_text(json.dumps({**document, "auto_map": {auto: "custom.Custom"}}))
    return directory
