#!/usr/bin/env bash
# The region benchmarks against a local SeaweedFS (see README.md next to this):
#   1. push of a 2 GB bag: ppe-tech region push vs a boto3 upload_file loop vs rclone copy;
#   2. region review of 100 synthetic points: wall time and peak memory of the process tree.
#
#   bench/region/run.sh [DATA_DIR]     (default /work/benchdata/region; needs ~10 GB free)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${1:-/work/benchdata/region}
VENV=${VENV:-$REPO/.venv}
PY="$VENV/bin/python"
TIME="/usr/bin/time -f %e_s_wall_%M_KiB_peak"
POINTS=${POINTS:-100}
export PPE_KEY_PASSPHRASE=bench
mkdir -p "$DATA"

"$PY" "$REPO/bench/recordings/make_data.py" "$DATA/rec" --segments 72  # about 2 GB
rm -rf "$DATA/s3"
eval "$("$PY" "$HERE/s3.py" start "$DATA/s3")"
trap 'kill "$S3_PID"' EXIT
for b in ppe boto3 rclone; do "$PY" "$HERE/s3.py" bucket "$b" $([ $b = ppe ] && echo --lock); done
"$PY" "$HERE/s3.py" bucket boto3lock --lock
"$PY" "$HERE/s3.py" bucket region --lock

SITE="$DATA/rec/site"
PPE="$VENV/bin/ppe-tech --site $SITE"
"$PY" - "$SITE/ppe.yaml" <<PY
import sys, yaml
p = sys.argv[1]; c = yaml.safe_load(open(p))
c["point"]["region"] = "77"
c["region"] = {"endpoint": "$S3_ENDPOINT", "bucket": "ppe"}
yaml.safe_dump(c, open(p, "w"), sort_keys=False)
PY
[ -f "$SITE/keys/site.cert.pem" ] || $PPE keys init > /dev/null
if ! ls -d "$DATA"/archive/*/ > /dev/null 2>&1; then
  sleep 16  # past recordings.settle
  mkdir -p "$DATA/archive"
  $PPE recordings archive --exam bench --to "$DATA/archive" --no-decode-check --json > /dev/null
fi
BAG=$(ls -d "$DATA"/archive/*/ | head -1)
du -sb "$BAG"
cat "$BAG"/data/*/*/*.mp4 > /dev/null  # every tool reads from the page cache

echo "== push of the bag ($(uptime))"
$TIME $PPE region push --exam bench --json > "$HERE/push.json"
echo "== boto3 upload_file loop ($(uptime))"
$TIME "$PY" "$HERE/boto3_loop.py" "$BAG" "$S3_ENDPOINT" boto3 77/0101/bench
echo "== boto3 upload_file loop with SHA-256 checksums and the lock, like-for-like ($(uptime))"
$TIME "$PY" "$HERE/boto3_loop.py" "$BAG" "$S3_ENDPOINT" boto3lock 77/0101/bench --sha256-and-lock
echo "== rclone copy ($(uptime))"
$TIME "$VENV/bin/rclone" copy "$BAG" :s3:rclone/77/0101/bench --s3-provider Other --s3-env-auth \
  --s3-endpoint "$S3_ENDPOINT" --config /dev/null
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print('ppe-tech push:', d['sent'], 'objects', d['sent_bytes'], 'bytes in', d['seconds'], 's')" "$HERE/push.json"

echo "== $POINTS synthetic points made and pushed"
rm -rf "$DATA/points"
"$PY" "$HERE/make_points.py" "$DATA/points" --points "$POINTS" --endpoint "$S3_ENDPOINT" --bucket region
echo "== region review of $POINTS points ($(uptime))"
"$PY" "$HERE/peak.py" -- "$VENV/bin/ppe-tech" region review --bucket region --endpoint "$S3_ENDPOINT" \
  --workers 2 --json > "$HERE/review.json"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary'])" "$HERE/review.json"
