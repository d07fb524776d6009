"""Heads put on top of pooled backbone features."""

from __future__ import annotations

from torch import nn


def linear_head(in_dim: int, out_dim: int) -> nn.Linear:
    return nn.Linear(in_dim, out_dim)

