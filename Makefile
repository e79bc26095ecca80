# `make demo` and `make test` each set everything up on a fresh machine (venv + install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/sysmon-rules
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,sigma,distributed,report]'
	touch $(STAMP)

demo: $(STAMP)
	$(CLI) validate examples/sysmonconfig.xml
	$(CLI) compile examples/sysmonconfig.xml -o $(VENV)/demo-rules.bin
	$(CLI) dump $(VENV)/demo-rules.bin
	$(CLI) diff examples/sysmonconfig.xml $(VENV)/demo-rules.bin
	$(CLI) evaluate examples/sysmonconfig.xml examples/events.jsonl --format jsonl
	$(CLI) test examples/sysmonconfig.sysmon-test.yaml
	$(CLI) report examples/sysmonconfig.xml --events examples/events.jsonl -o $(VENV)/demo-report.html
	$(CLI) lint examples/lint-mistakes.xml --fail-on never
	$(CLI) merge examples/modules -o $(VENV)/demo-merged.xml

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	SYSMON_RULES_FUZZ_EXAMPLES=20000 $(PY) -m pytest -q tests/test_blob_fuzz.py
	SYSMON_RULES_FUZZ_INPUTS=3000 $(PY) -m pytest -q tests/test_fuzz_surfaces.py
	SYSMON_RULES_MERGE_FULL=1 SYSMON_RULES_MERGE_EXAMPLES=1000 $(PY) -m pytest -q tests/test_merge_union.py
	SYSMON_RULES_PROCESS_CLUSTER=1 $(PY) -m pytest -q tests/test_distributed.py
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools examples
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
