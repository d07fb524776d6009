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
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,serve]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/headstart demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,serve,bench]"
	for script in extract fewshot transferability auto batchnorm adapt zeroshot multitask; do $(PY) bench/$$script.py || exit 1; done
