#!/bin/sh
# PAK log benchmarks: durable append rate, then verify/audit of a 1,000,000-entry log.
# Run from the repository root:  sh bench/pak/run.sh [/tmp/pak-bench]
set -e
DIR=${1:-/tmp/pak-bench}
PY=.venv/bin/python
$PY bench/pak/append_rate.py 2000
[ -f "$DIR/ppe.db" ] || $PY bench/pak/make_log.py "$DIR" 1000000
PPE_SITE="$DIR" PPE_KEY_PASSPHRASE=bench .venv/bin/ppe-tech pak checkpoint >/dev/null
$PY bench/pak/verify_audit.py "$DIR"
# the whole command, process start included
PPE_SITE="$DIR" PPE_KEY_PASSPHRASE=bench hyperfine --runs 3 --warmup 1 \
  '.venv/bin/ppe-tech pak verify' "sha256sum $DIR/ppe.db"
