"""Run a command and report its wall time and the peak memory of its whole process tree.

    python bench/region/peak.py -- COMMAND ARGS...

Peak: the largest sum of RSS over the process and all its descendants, sampled every 50 ms
(``/usr/bin/time -v`` sees only the main process, not the review's worker processes).
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil


def main() -> None:
    argv = sys.argv[sys.argv.index("--") + 1 :]
    started = time.perf_counter()
    proc = subprocess.Popen(argv)  # its stdout is ours (a pipe read only at the end could fill)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - started
    print(
        f"\nexit {proc.returncode}, wall {wall:.2f} s, peak RSS of the process tree {peak / 2**20:.0f} MiB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
