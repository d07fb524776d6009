# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create .venv and install headstart (torch pinned by constraints.txt) the first time;
# re-running them only re-installs when pyproject.toml or constraints.txt changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,serve,rl,federated]"
	command -v espeak-ng >/dev/null || apt-get install -y -qq espeak-ng || (apt-get update -qq && apt-get install -y -qq espeak-ng)  # the speech engine of the synthetic accent set and the audio tests
	$(PY) -c "import numpy, librosa; librosa.feature.mfcc(y=numpy.zeros(16000, 'float32'), sr=16000)"  # numba compiles librosa's kernels once, here, not in the first run
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/headstart demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile  # two workers (pytest-xdist), a test file per worker at a time

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,serve,rl,federated,bench]"
	command -v wrk >/dev/null || apt-get install -y -qq wrk  # bench/serve.py's load generator
	for script in extract fewshot transferability auto batchnorm adapt zeroshot multitask timeseries speech serve export_baseline export_audio export_more int8_kernels batch_size overhead adapt_speed report_cost demo_speed scale speed rl federated; do \
	  $(PY) bench/$$script.py || exit 1; done
