#!/bin/sh
# Reports benchmarks (run once, on a quiet machine: rendering is CPU heavy).
# 1. readiness protocol with 16 snapshots, rendered and signed;
# 2. 10,000-row access-log extract: ppe-tech (page tables, segments) vs one plain table,
#    wall time and peak memory from /usr/bin/time -v.
set -e
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
ROWS=${ROWS:-10000}
$PY bench/reports/readiness16.py --runs 3
/usr/bin/time -v $PY bench/reports/rooms30.py 2> /tmp/ppe-bench-rooms30.time
grep -E "Elapsed \(wall clock\)|Maximum resident set size" /tmp/ppe-bench-rooms30.time
for mode in chunked plain; do
  /usr/bin/time -v $PY bench/reports/log_extract.py $mode --rows "$ROWS" 2> /tmp/ppe-bench-$mode.time
  grep -E "Elapsed \(wall clock\)|Maximum resident set size" /tmp/ppe-bench-$mode.time
done
