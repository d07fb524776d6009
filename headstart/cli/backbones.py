"""``headstart backbones``: the registered pre-trained backbones."""

from __future__ import annotations

from headstart.cli.console import print_table


def backbones() -> None:
    """List the pre-trained backbones: modality, size, features, where the weights come from.

    Example: headstart backbones
    """
    from headstart.zoo import list_backbones

    entries = list_backbones()
    rows = [[e.name, e.modality, f"{e.num_params / 1e6:.1f} M", str(e.feature_dim), e.source, "yes" if e.installed() else "no"]
            for e in entries]
    print_table("Backbones", ["name", "modality", "parameters", "features", "weights from", "installed"], rows)
