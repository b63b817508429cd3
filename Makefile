# Two commands on a fresh machine: `make demo` and `make test`. Nothing but Python 3.10+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test system-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audiodrama produce samples/chapter-000.txt --cast casts/seeds.yaml -o output/demo
	@echo "Demo episode: output/demo/chapter-000.mp3" >&2

# Debian packages the tests use beside the wheels: Chromium and its driver for the studio's browser
# tests, and a system espeak-ng and ffmpeg that the tests compare with the bundled ones. Installed when
# missing and run as root (as CI is); otherwise the tests that need them say what to install.
SYSTEM_TOOLS := chromium:chromium chromedriver:chromium-driver espeak-ng:espeak-ng ffmpeg:ffmpeg

system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing$$missing (apt-get)" >&2; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "make test: not installed:$$missing (Debian: sudo apt-get install$$missing)" >&2; \
	fi

test: $(STAMP) system-tools
	$(BIN)/ruff check audiodrama tests scripts
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) output/demo .pytest_cache
