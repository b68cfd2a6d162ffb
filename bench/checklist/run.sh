#!/usr/bin/env bash
# Benchmark: 200 automatic probes with ppe-tech against the bash script a technician would write,
# and the start-up time of `ppe-tech --help`. Needs hyperfine (Debian package).
# Usage: bench/checklist/run.sh   (from the repository root, after scripts/install)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $server $hung 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do port=$(grep -oE 'port [0-9]+' "$work/server.log" | grep -oE '[0-9]+' || true); [ -n "$port" ] && break; sleep 0.1; done
# a portal that accepts connections and never answers
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(100); print(s.getsockname()[1], flush=True); time.sleep(3600)" > "$work/hung.port" &
hung=$!
sleep 0.5
.venv/bin/python bench/checklist/make_bench_site.py "$work/site" "$port" "$(cat "$work/hung.port")"
export PPE_SITE="$work/site"
.venv/bin/ppe-tech check run bench200 --no-input --json > "$work/first.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]; print('ppe-tech run:', r['status'], r['counts'])" "$work/first.json"
bash "$work/site/bench200.sh"
hyperfine --warmup 1 --runs 10 --export-markdown "${OUT:-/dev/stdout}" \
  -n "ppe-tech check run (200 probes, parallel, stored)" ".venv/bin/ppe-tech check run bench200 --no-input --json" \
  -n "bash script, same 200 checks, sequential" "bash $work/site/bench200.sh"
hyperfine --runs 3 -i \
  -n "ppe-tech, 200 probes + 5 hung HTTP endpoints (2 s timeout)" ".venv/bin/ppe-tech check run bench205-hung --no-input --json" \
  -n "bash + curl -m 2, same checks, sequential" "bash $work/site/bench205-hung.sh"
hyperfine --warmup 3 --runs 30 \
  -n "ppe-tech --help" ".venv/bin/ppe-tech --help" \
  -n "python3 -c pass (interpreter floor)" ".venv/bin/python -c pass"
