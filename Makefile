# Two entry points for a fresh machine: `make run` and `make test` (see README).
# Both create .venv when missing and install the project into it (editable, so
# lexicons/ at the top level is found in place).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.cxtext-installed

# Prefect: no telemetry, and enough time for its temporary server to start.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: run test bench bench-sentiment report train-sentiment clean

$(STAMP): pyproject.toml cxtext/_jiebacut.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cxtext run data/sample --out out/

test: $(STAMP)
	$(PY) -m pytest -q

# The analyst report over the sample, and its screenshot for the README (needs chromium).
report: $(STAMP)
	test -f out/reviews.parquet || $(VENV)/bin/cxtext run data/sample --out out/
	$(VENV)/bin/cxtext report out/ --out docs/report.html
	$(PY) -m cxtext.report.browser docs/report.html docs/report.png --height 3400

# Throughput: raw jieba.lcut, the naive script and `cxtext run` with 1 and 2 workers on N reviews
# (writes bench/results/throughput.md; the dump goes to /tmp/cxtext-bench). N=1000000 for the RSS check.
N ?= 50000
bench: $(STAMP)
	$(PY) bench/throughput.py --n $(N)

# Sentiment: SnowNLP default vs SnowNLP retrained vs ours on held-out rows (needs ../shared/data).
bench-sentiment: $(STAMP)
	$(PY) bench/sentiment.py

# Retrain the shipped sentiment model on ../shared/data/corpora.
train-sentiment: $(STAMP)
	$(VENV)/bin/cxtext train sentiment shared --out cxtext/models/sentiment-zh

clean:
	rm -rf out .pytest_cache
