#!/usr/bin/env bash
# Archive real segments with ppe-tech and, in the same hyperfine run, with what a careful user
# would write instead; once with 2-s and once with 25-s keyframe intervals. Then the decode
# check's CPU per file by library, verify speed and peak memory. See README.md next to this.
#
#   bench/recordings/run_bench.sh [DATA_DIR]    (default /work/benchdata/recordings; ~10 GB free)
#   SEGMENTS=68 RUNS=5 GOPS="2 25" bench/recordings/run_bench.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${1:-/work/benchdata/recordings}
VENV=${VENV:-$REPO/.venv}
RUNS=${RUNS:-5}
SEGMENTS=${SEGMENTS:-68}
GOPS=${GOPS:-"2 25"}
PY="$VENV/bin/python"

for gop in $GOPS; do
  dir="$DATA/g$gop"
  "$PY" "$HERE/make_data.py" "$dir" --segments "$SEGMENTS" --gop "$gop"
done
sleep 16  # past recordings.settle: no segment is "still being written"

for gop in $GOPS; do
  dir="$DATA/g$gop"
  out="$dir/out"
  ppe="$VENV/bin/ppe-tech --site $dir/site"
  mkdir -p "$out"
  cat "$dir"/root/*/*/*.mp4 > /dev/null   # the recorder's files are in the page cache, for everyone
  echo "== ${gop}-s keyframe interval: $(uptime)"
  hyperfine --runs "$RUNS" --prepare "rm -rf $out/*; mkdir -p $out/ours; sync" \
    --export-json "$HERE/results-g$gop.json" --export-markdown "$HERE/results-g$gop.md" \
    -n "cp -r + sync" "cp -r $dir/root $out/floor && sync" \
    -n "cp -r + sha256sum + sync" "cp -r $dir/root $out/sha && cd $out/sha && find . -type f -print0 | sort -z | xargs -0 sha256sum > $out/sha256.txt && sync" \
    -n "ppe-tech recordings archive --no-decode-check" "$ppe recordings archive --exam bench --to $out/ours --no-decode-check --json > /dev/null" \
    -n "ppe-tech recordings archive" "$ppe recordings archive --exam bench --to $out/ours --json > /dev/null"
  echo "   load after: $(uptime)"
  "$PY" "$HERE/ratios.py" "$HERE/results-g$gop.json"
  "$PY" "$HERE/decode_cpu.py" "$dir/segment.mp4" > "$HERE/decode-cpu-g$gop.md"
  cat "$HERE/decode-cpu-g$gop.md"
done

dir="$DATA/g$(echo "$GOPS" | cut -d' ' -f1)"
out="$dir/out"
ppe="$VENV/bin/ppe-tech --site $dir/site"
echo "== peak memory (archive with the decode check) and verify from the page cache"
rm -rf "$out"/*; mkdir -p "$out/ours"; sync
/usr/bin/time -v $ppe recordings archive --exam bench --to "$out/ours" --json 2> "$HERE/time-archive.txt" > "$HERE/archive.json"
grep -E "Maximum resident|Elapsed|User time|System time" "$HERE/time-archive.txt"
bag=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['bag_path'])" "$HERE/archive.json")
/usr/bin/time -v $ppe recordings verify "$bag" --json 2> "$HERE/time-verify.txt" > "$HERE/verify.json"
grep -E "Maximum resident|Elapsed" "$HERE/time-verify.txt"
rm -rf "$out"
