"""The `headstart` app: user errors are one line with exit status 2; every --help shows an example."""

import pytest

from tests.cli.helpers import run


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "no/such/file.csv", "--out", "x"], "no such file"),
        (["fit", "digits", "--method", "nonsense", "--out", "x"], "unknown method"),
        (["fit", "digits", "--backbone", "nonsense", "--out", "x"], "unknown backbone"),
        (["fit", "digits", "--set", "bogus=1", "--out", "x"], "unknown option"),
        (["evaluate", "no/such/run", "digits"], "not a headstart artifact"),
        (["fit", "digits", "--method", "prob", "--out", "x"],
         "unknown method 'prob' (did you mean 'probe'?); available: auto, finetune, lora, probe, scratch"),
        (["fit", "digits", "--backbone", "efficientnet-lit0", "--out", "x"], "(did you mean 'efficientnet-lite0'?)"),
        (["fit", "digit:train", "--out", "x"], "no such file, folder or catalogue dataset: digit:train (did you mean 'digits'?)"),
        (["fit", "digits:trian", "--out", "x"], "digits: no split 'trian' (did you mean 'train'?)"),
        (["rank", "digits", "--scores", "logm"], "unknown transferability score 'logm' (did you mean 'logme'?)"),
        (["fit", "digits", "--method", "probe", "--unfreeze", "2", "--out", "x"], "unfreeze does nothing with method probe"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(args, message):
    done = run(*args, check=False)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["fit", "evaluate", "predict", "backbones", "datasets"])
def test_help_shows_a_runnable_example(command):
    assert "Example: headstart" in run(command, "--help").stdout
