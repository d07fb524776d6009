"""Heads put on top of pooled backbone features."""

from __future__ import annotations

from torch import nn


def linear_head(in_dim: int, out_dim: int) -> nn.Linear:
    return nn.Linear(in_dim, out_dim)


def mlp_head(in_dim: int, out_dim: int, hidden: int = 256, dropout: float = 0.1) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim))
