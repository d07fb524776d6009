"""`headstart backbones` lists the built-in backbones."""

from tests.cli.helpers import run


def test_listing():
    listing = run("backbones").stdout
    assert all(name in listing for name in ("minilm-l6", "efficientnet-lite0", "efficientnet-lite2"))
