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
for b in region locked; do "$PY" "$HERE/s3.py" bucket $b --lock; done
"$PY" "$HERE/s3.py" bucket plain

SITE="$DATA/rec/site"
PPE="$VENV/bin/ppe-tech --site $SITE"
set_prefix() {  # the push's key prefix in ppe.yaml
"$PY" - "$SITE/ppe.yaml" "$1" <<PY
import sys, yaml
p = sys.argv[1]; c = yaml.safe_load(open(p))
c["point"]["region"] = "77"
c["region"] = {"endpoint": "$S3_ENDPOINT", "bucket": "locked", "prefix": sys.argv[2]}
yaml.safe_dump(c, open(p, "w"), sort_keys=False)
PY
}
set_prefix ""
[ -f "$SITE/keys/site.cert.pem" ] || $PPE keys init > /dev/null
if ! ls -d "$DATA"/archive/*/ > /dev/null 2>&1; then
  sleep 16  # past recordings.settle
  mkdir -p "$DATA/archive"
  $PPE recordings archive --exam bench --to "$DATA/archive" --no-decode-check --json > /dev/null
fi
BAG=$(ls -d "$DATA"/archive/*/ | head -1)
du -sb "$BAG"
cat "$BAG"/data/*/*/*.mp4 > /dev/null  # every tool reads from the page cache

# ROUNDS rounds, the four tools in turn within each (the order rotating), each under a fresh
# prefix (in two buckets: a bucket per run would make SeaweedFS grow volumes until its disk
# share runs out); push_ratios.py pairs them by round (the machine's noise is shared in one).
: > "$HERE/push-rounds.tsv"
run_tool() {  # TOOL PREFIX
  local out key="$2-$1/77/0101/bench"
  case $1 in
    ppe-tech) set_prefix "$2"
      out=$($TIME $PPE region push --exam bench --json 2>&1 > "$HERE/push.json") ;;
    boto3) out=$($TIME "$PY" "$HERE/boto3_loop.py" "$BAG" "$S3_ENDPOINT" plain "$key" 2>&1) ;;
    boto3-sha256-lock) out=$($TIME "$PY" "$HERE/boto3_loop.py" "$BAG" "$S3_ENDPOINT" locked "$key" \
      --sha256-and-lock 2>&1) ;;
    rclone) out=$($TIME "$VENV/bin/rclone" copy "$BAG" ":s3:plain/$key" --s3-provider Other \
      --s3-env-auth --s3-endpoint "$S3_ENDPOINT" --config /dev/null 2>&1) ;;
  esac
  echo "$out" | tail -1 | sed "s/^/$1 /"
  printf '%s\t%s\t%s\n' "$ROUND" "$1" "$(echo "$out" | tail -1)" >> "$HERE/push-rounds.tsv"
}
TOOLS=(ppe-tech boto3 boto3-sha256-lock rclone)
for ROUND in $(seq 1 "${ROUNDS:-3}"); do
  echo "== round $ROUND ($(uptime))"
  for i in 0 1 2 3; do
    run_tool "${TOOLS[$(((i + ROUND - 1) % 4))]}" "r$ROUND"
  done
done
"$PY" "$HERE/push_ratios.py" "$HERE/push-rounds.tsv"

echo "== $POINTS synthetic points made and pushed"
rm -rf "$DATA/points"
"$PY" "$HERE/make_points.py" "$DATA/points" --points "$POINTS" --endpoint "$S3_ENDPOINT" --bucket region
echo "== region review of $POINTS points ($(uptime))"
"$PY" "$HERE/peak.py" -- "$VENV/bin/ppe-tech" region review --bucket region --endpoint "$S3_ENDPOINT" \
  --workers 2 --json > "$HERE/review.json"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary'])" "$HERE/review.json"
