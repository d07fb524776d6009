"""``headstart backbones``: the registered pre-trained backbones."""

from __future__ import annotations

import typer

from headstart.cli.console import print_table


def backbones(json_out: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List the pre-trained backbones: modality, size, features, where the weights come from.

    Example: headstart backbones
    """
    from headstart.zoo import list_backbones

    if json_out:
        print_table("", [{"name": e.name, "modality": e.modality, "parameters": e.num_params, "features": e.feature_dim,
                          "weights_from": e.source, "installed": e.installed()} for e in list_backbones()], json_out=True)
        return
    rows = [{"name": e.name, "modality": e.modality, "params": f"{e.num_params / 1e6:.1f} M", "dim": e.feature_dim,
             "installed": "yes" if e.installed() else "no", "weights from": e.source} for e in list_backbones()]
    print_table("Backbones", rows, wrap=("weights from",))
