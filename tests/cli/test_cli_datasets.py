"""`headstart datasets` lists the catalogue."""

from tests.cli.helpers import run


def test_listing():
    assert all(name in run("datasets").stdout for name in ("digits", "mnist5k", "rotten_tomatoes", "bbc_news"))
