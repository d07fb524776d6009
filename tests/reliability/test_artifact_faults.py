"""Damaged or edited artifact files: one line that names the file and the problem, never a traceback."""

import json

import pytest

import headstart
from headstart.errors import HeadstartError
from tests.cli.helpers import run


def _edit_config(change):
    def apply(folder):
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))
    return apply


def _write(name, data):
    return lambda folder: (folder / name).write_bytes(data(folder / name))


FAULTS = {
    "empty config": (_write("config.json", lambda p: b""), "config.json: not valid JSON"),
    "truncated config": (_write("config.json", lambda p: p.read_bytes()[:200]), "config.json: not valid JSON"),
    "random bytes config": (_write("config.json", lambda p: bytes(range(256)) * 4), "config.json: not valid JSON"),
    "config not an object": (_write("config.json", lambda p: b"[1, 2]"), "expected a JSON object"),
    "unknown recipe key": (_edit_config(lambda c: c["recipe"].update(colour="blue")), "config.json: does not describe"),
    "missing classes": (_edit_config(lambda c: c.pop("classes")), "missing entry 'classes'"),
    "wrong head size": (_edit_config(lambda c: c["head"].update(out_features=7)), "config.json: does not describe"),
    "no manifest": (_edit_config(lambda c: c.pop("files")), "no file manifest"),
    "flipped floats": (_write("model.safetensors", lambda p: p.read_bytes()[:-40] + bytes(40)), "model.safetensors: missing or changed"),
    "truncated weights": (_write("model.safetensors", lambda p: p.read_bytes()[:100]), "model.safetensors: missing or changed"),
    "random bytes weights": (_write("model.safetensors", lambda p: bytes(range(256))), "model.safetensors: missing or changed"),
    "deleted weights": (lambda folder: (folder / "model.safetensors").unlink(), "not a headstart artifact"),
}


@pytest.fixture()
def saved(fitted_kinds, tmp_path):
    return fitted_kinds["text_probe"][0].save(tmp_path / "run")


@pytest.mark.parametrize("fault", FAULTS)
def test_each_damage_is_one_headstart_error_naming_the_file(fault, saved):
    damage, message = FAULTS[fault]
    damage(saved)
    with pytest.raises(HeadstartError, match=message) as caught:
        headstart.load(saved)
    assert "\n" not in str(caught.value) and str(saved) in str(caught.value)


def test_a_weights_file_without_a_manifest_entry_for_its_damage_still_fails_in_one_line(saved):
    """Bit-rot that also rewrote the manifest (so the SHA-256 agrees) is caught by safetensors itself."""
    from headstart.zoo.base import file_sha256

    weights = saved / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    _edit_config(lambda c: c["files"].update({"model.safetensors": file_sha256(weights)}))(saved)
    with pytest.raises(HeadstartError, match="model.safetensors: cannot be read"):
        headstart.load(saved)


@pytest.mark.parametrize("fault", ["truncated config", "flipped floats"])
def test_the_command_line_prints_one_line_and_exits_2(fault, saved):
    FAULTS[fault][0](saved)
    done = run("predict", str(saved), "Shares fell sharply.", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
