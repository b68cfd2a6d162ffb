#!/usr/bin/env bash
# Benchmarks of the stations job (from the repository root, after scripts/install):
#  1. `ppe-tech station import` of 40 stations' result files, then `ppe-tech stations --json`
#     (readiness of 20 rooms), each under /usr/bin/time -v. Goal: under 1 s and 100 MB each.
#  2. `ppe-tech station run` of station-print whose clock probe waits on an NTP server that never
#     answers (5 s timeout, 1 retry: the slowest item's budget is 10 s). Goal: the run ends
#     within that budget plus 1 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $ntp $silent 2>/dev/null || true; rm -rf "$work"' EXIT
py=.venv/bin/python
# an SNTP server that answers, and a UDP port that receives and never answers
$py -c "
from ppe_tech.demo_services import SntpServer
import time
with SntpServer() as s:
    print(s.port, flush=True); time.sleep(3600)" > "$work/ntp.port" &
ntp=$!
$py -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True); time.sleep(3600)" > "$work/silent.port" &
silent=$!
for _ in $(seq 50); do [ -s "$work/ntp.port" ] && [ -s "$work/silent.port" ] && break; sleep 0.1; done
uptime
$py bench/stations/make_point.py "$work/site" "$work/stick" "$(cat "$work/ntp.port")"
# the cameras of every room verified (rows as `cameras verify` stores them)
$py - "$work/site" <<'PY'
import sys
from ppe_tech.site import load_site
from ppe_tech.store import connect, transaction
from ppe_tech.timeutil import iso, utc_now
site = load_site(sys.argv[1]); conn = connect(site.db_path); now = iso(utc_now())
with transaction(conn):
    run = conn.execute("INSERT INTO camera_runs (started_at, finished_at, exam_id, sample_s, selection, status)"
                       " VALUES (?, ?, '2026-05-28-math', 3, 'all', 'ok')", (now, now)).lastrowid
    for cam in site.config.cameras:
        conn.execute("INSERT INTO camera_results VALUES (?, ?, 'auditorium', ?, 'x', 'ok', '[]', '{}', NULL, 1)",
                     (run, cam.id, cam.room))
PY
export PPE_SITE="$work/site"
echo "== in one process, after imports (no interpreter start-up)"
$py bench/stations/inproc.py "$work/site" "$work/stick/results"
tv() { /usr/bin/time -v "$@" 2> "$work/time.txt" > "$work/out.txt" || true
       grep -E "Elapsed \(wall|Maximum resident" "$work/time.txt"; tail -1 "$work/out.txt"; }
echo "== station import of 40 result files"
tv .venv/bin/ppe-tech station import "$work/stick/results" --exam 2026-05-28-math
echo "== station import again (all already imported)"
tv .venv/bin/ppe-tech station import "$work/stick/results" --exam 2026-05-28-math
echo "== stations --json (40 stations, 20 rooms)"
tv .venv/bin/ppe-tech stations --exam 2026-05-28-math --json
$py -c "import json,sys; d=json.load(open(sys.argv[1])); print('ready:', d['ready'], '-', d['summary'][:80])" "$work/out.txt"
echo "== for scale: the bare interpreter, and ppe-tech --help"
tv $py -c pass
tv .venv/bin/ppe-tech --help
echo "== station run, clock probe against a silent NTP port (slowest item budget 10 s)"
sed -i "s/ntp_port: [0-9]*/ntp_port: $(cat "$work/silent.port")/" "$work/stick/ppe-station/ppe.yaml"
tv .venv/bin/ppe-tech --site "$work/stick/ppe-station" station run --station print-0001 \
   --out "$work/run-out" --no-input
uptime
$py - "$work/run-out" <<'PY'
import json, sys
from datetime import datetime
from pathlib import Path
(path,) = Path(sys.argv[1]).glob("*.station.json")
p = json.loads(path.read_text())["payload"]
took = datetime.fromisoformat(p["finished_at"]) - datetime.fromisoformat(p["started_at"])
slow = max(p["items"], key=lambda i: i["duration_ms"])
print(f"checklist run itself: {took.total_seconds():.0f} s (timestamps have 1 s resolution); "
      f"slowest item {slow['item_id']}: {slow['status']} after {slow['duration_ms']} ms")
PY
