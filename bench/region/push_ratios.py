"""Medians of the per-round wall times and of ppe-tech's ratio to each tool (run.sh's rounds).

python bench/region/push_ratios.py bench/region/push-rounds.tsv
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict


def main() -> None:
    walls: dict[str, dict[str, float]] = defaultdict(dict)  # round -> tool -> seconds
    peaks: dict[str, list[int]] = defaultdict(list)
    for line in open(sys.argv[1], encoding="utf-8"):
        round_, tool, figures = line.rstrip("\n").split("\t")
        wall, _, peak = figures.partition("_s_wall_")
        walls[round_][tool] = float(wall)
        peaks[tool].append(int(peak.split("_")[0]) // 1024)
    tools = list(next(iter(walls.values())))
    print("| tool | median wall | peak memory | ppe-tech's time / its (median of rounds) |")
    print("|---|---:|---:|---:|")
    for tool in tools:
        wall = statistics.median(r[tool] for r in walls.values())
        ratio = statistics.median(r["ppe-tech"] / r[tool] for r in walls.values())
        print(f"| {tool} | {wall:.2f} s | {max(peaks[tool])} MiB | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
