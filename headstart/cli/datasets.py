"""``headstart datasets``: the catalogue of real datasets."""

from __future__ import annotations

from headstart.cli.console import print_table


def datasets() -> None:
    """List the catalogue of real datasets (fetched from the package registry on first use).

    Example: headstart datasets
    """
    from headstart.data.catalogue import list_datasets

    rows = [[d.name, d.modality, str(d.size), str(len(d.classes)), d.licence, d.source] for d in list_datasets()]
    print_table("Catalogue datasets", ["name", "modality", "examples", "classes", "licence", "source"], rows)
