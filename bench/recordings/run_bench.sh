#!/usr/bin/env bash
# Archive a few GB of real segments with ppe-tech and, in the same run, with the scripts a
# careful user would write; then verify speed and peak memory. See README.md next to this.
#
#   bench/recordings/run_bench.sh [DATA_DIR]      (default /work/benchdata/b; needs ~5 GB free)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${1:-/work/benchdata/b}
VENV=${VENV:-$REPO/.venv}
RUNS=${RUNS:-3}
PPE="$VENV/bin/ppe-tech --site $DATA/site"
BAGIT="$VENV/bin/bagit.py"
OUT="$DATA/out"

"$VENV/bin/python" "$HERE/make_data.py" "$DATA"
mkdir -p "$OUT"
cat "$DATA"/root/*/*/*.mp4 > /dev/null   # the recorder's files are in the page cache, for everyone
sleep 16                                  # past recordings.settle: no segment is "still being written"

hyperfine --runs "$RUNS" --prepare "rm -rf $OUT/*; sync" \
  --export-json "$HERE/results.json" --export-markdown "$HERE/results.md" \
  -n "cp -r + sync (floor)" "cp -r $DATA/root $OUT/floor && sync" \
  -n "cp -r + sha256sum + sync" "cp -r $DATA/root $OUT/sha && cd $OUT/sha && find . -type f -print0 | sort -z | xargs -0 sha256sum > $OUT/sha256.txt && sync" \
  -n "cp -r + bagit.py --sha256 --processes 2 + sync" "cp -r $DATA/root $OUT/bag && $BAGIT --quiet --sha256 --processes 2 $OUT/bag && sync" \
  -n "ppe-tech recordings archive --no-decode-check" "$PPE recordings archive --exam bench --to $OUT/ours --no-decode-check --json > /dev/null" \
  -n "ppe-tech recordings archive (decodes first+last frame of each file)" "$PPE recordings archive --exam bench --to $OUT/ours --json > /dev/null"

echo "== peak memory (archive, with decode checks)"
rm -rf "$OUT"/*; sync
/usr/bin/time -v $PPE recordings archive --exam bench --to "$OUT/ours" --json 2> "$HERE/time-archive.txt" > "$HERE/archive.json"
grep -E "Maximum resident|Elapsed" "$HERE/time-archive.txt"
BAG=$("$VENV/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['bag_path'])" "$HERE/archive.json")

echo "== verify from the page cache"
cat "$BAG"/data/*/*/*.mp4 > /dev/null
/usr/bin/time -v $PPE recordings verify "$BAG" --json 2> "$HERE/time-verify.txt" > "$HERE/verify.json"
grep -E "Maximum resident|Elapsed" "$HERE/time-verify.txt"
"$VENV/bin/python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"verify: {d['bytes']/1e9:.2f} GB in {d['seconds']:.2f} s = {d['bytes_per_second']/1e9:.2f} GB/s, valid={d['valid']}\")" "$HERE/verify.json"
hyperfine --runs "$RUNS" --export-markdown "$HERE/verify.md" \
  -n "ppe-tech recordings verify" "$PPE recordings verify $BAG --json > /dev/null" \
  -n "ppe-tech recordings verify --fast" "$PPE recordings verify $BAG --fast --json > /dev/null" \
  -n "bagit.py --validate --processes 2" "$BAGIT --quiet --validate --processes 2 $BAG"
rm -rf "$OUT"
