"""``headstart datasets``: the catalogue of real datasets."""

from __future__ import annotations

import typer

from headstart.cli.console import print_table


def datasets(json_out: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List the catalogue of real datasets (fetched from the package registry on first use).

    Example: headstart datasets
    """
    from headstart.data.catalogue import list_datasets

    rows = [{"name": d.name, "modality": d.modality, "examples": d.size, "classes": len(d.classes), "licence": d.licence,
             "source": d.source} for d in list_datasets()]
    print_table("Catalogue datasets", rows, wrap=("licence", "source"), json_out=json_out)
