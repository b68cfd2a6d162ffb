"""Make a site with a checklist of 200 automatic probes (50 each of file, tcp, process, command)
and the equivalent plain bash script a technician would otherwise write; plus the same with five
HTTP endpoints that hang (a portal that accepts and never answers; 2 s timeout each). Usage:
    make_bench_site.py DIR TCP_PORT HUNG_PORT
"""

import sys
from pathlib import Path

import yaml

folder, port, hung = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
(folder / "checklists").mkdir(parents=True, exist_ok=True)
(folder / "files").mkdir(exist_ok=True)
(folder / "ppe.yaml").write_text(
    yaml.safe_dump(
        {
            "point": {"code": "0101", "name": "bench", "timezone": "Europe/Moscow"},
            "staff": {
                "technician": {"name": "T", "position": "t"},
                "head": {"name": "H", "position": "h"},
            },
        }
    )
)
items, script = [], ["#!/usr/bin/env bash", "fails=0"]
for n in range(50):
    path = folder / "files" / f"f{n}"
    path.write_text("x")
    items += [
        {
            "id": f"file-{n}",
            "title": "file",
            "probe": {"type": "file", "path": str(path), "max_age": "1d"},
        },
        {
            "id": f"tcp-{n}",
            "title": "tcp",
            "probe": {"type": "tcp", "host": "127.0.0.1", "port": port},
        },
        {
            "id": f"process-{n}",
            "title": "process",
            "probe": {"type": "process", "cmdline": "http.server"},
        },
        {"id": f"command-{n}", "title": "command", "probe": {"type": "command", "argv": ["true"]}},
    ]
    script += [
        f'[ -n "$(find {path} -mtime -1)" ] || fails=$((fails+1))',
        f"timeout 5 bash -c '</dev/tcp/127.0.0.1/{port}' || fails=$((fails+1))",
        "pgrep -f http.server >/dev/null || fails=$((fails+1))",
        "timeout 5 true || fails=$((fails+1))",
    ]


def write(name: str, items: list, script: list) -> None:
    (folder / "checklists" / f"{name}.yaml").write_text(
        yaml.safe_dump(
            {"title": "bench", "sections": [{"id": "all", "title": "all", "items": items}]}
        )
    )
    (folder / f"{name}.sh").write_text("\n".join([*script, 'echo "$fails failed"']) + "\n")


write("bench200", items, script)
hung_items = [
    {
        "id": f"hung-{n}",
        "title": "hung portal",
        "timeout": "2s",
        "probe": {"type": "http", "url": f"http://127.0.0.1:{hung}/{n}"},
    }
    for n in range(5)
]
hung_script = [
    f"curl -s -o /dev/null -m 2 http://127.0.0.1:{hung}/{n} || fails=$((fails+1))" for n in range(5)
]
write("bench205-hung", items + hung_items, script + hung_script)
