"""Median wall time of each command of a hyperfine JSON export, as a ratio to the first (the floor).

python bench/recordings/ratios.py results-g2.json
"""

from __future__ import annotations

import json
import statistics
import sys


def main() -> None:
    results = json.load(open(sys.argv[1], encoding="utf-8"))["results"]
    floor = statistics.median(results[0]["times"])
    print("| command | median s | min s | max s | CPU s (user+sys, mean) | vs the first |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        median = statistics.median(r["times"])
        cpu = r["user"] + r["system"]
        print(
            f"| `{r['command']}` | {median:.2f} | {min(r['times']):.2f} | {max(r['times']):.2f} "
            f"| {cpu:.2f} | {median / floor:.2f}x |"
        )


if __name__ == "__main__":
    main()
