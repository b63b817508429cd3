# Two commands on a fresh machine: `make demo` and `make test`. Nothing but Python 3.10+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audiodrama produce samples/chapter-000.txt --cast casts/seeds.yaml -o output/demo
	@echo "Demo episode: output/demo/chapter-000.mp3" >&2

test: $(STAMP)
	$(BIN)/ruff check audiodrama tests scripts
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) output/demo .pytest_cache
