"""Site discovery, init, secret masking, the store's migrations, lazy command groups."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import atomic_write_text, contained_path, parse_size
from ppe_tech.site import find_site_folder, load_site, mask_url
from ppe_tech.store import all_migrations, connect
from ppe_tech.timeutil import format_duration, parse_duration
from tests.conftest import minimal_config, write_site


def test_discovery_order(tmp_path, monkeypatch, site_dir):
    explicit = write_site(tmp_path / "explicit")
    nested = tmp_path / "walk" / "a" / "b"
    nested.mkdir(parents=True)
    write_site(tmp_path / "walk")
    assert find_site_folder(explicit) == explicit.resolve()  # --site first
    assert find_site_folder(None) == site_dir.resolve()  # then PPE_SITE
    monkeypatch.delenv("PPE_SITE")
    assert find_site_folder(None, cwd=nested) == (tmp_path / "walk").resolve()  # then parents


def test_init_writes_a_commented_starter_site(cli, tmp_path, monkeypatch):
    folder = tmp_path / "new-site"
    result = cli("init", str(folder))
    assert result.exit_code == 0, result.output
    text = (folder / "ppe.yaml").read_text()
    assert text.count("#") > 10  # commented for the technician
    for sub in ("recordings", "snapshots", "reports", "references", "checklists", "keys"):
        assert (folder / sub).is_dir()
    assert stat.S_IMODE((folder / "keys").stat().st_mode) == 0o700
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    assert load_site(folder).config.cameras[0].zone == "corridor"
    again = cli("init", str(folder))
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_site_show_masks_secrets(cli, site_dir, monkeypatch):
    monkeypatch.setenv("CAM_PASSWORD", "TopSecret-42")
    config = minimal_config(
        cameras=[
            {
                "id": "corridor-1",
                "zone": "corridor",
                "source": "rtsp://viewer:${CAM_PASSWORD}@10.0.0.21:554/s1",
            },
            {"id": "entrance", "zone": "entrance", "source": "rtsp://admin:inline-pw@10.0.0.22/s1"},
        ]
    )
    write_site(site_dir, config)
    for args in (("site", "show"), ("site", "show", "--json")):
        result = cli(*args)
        assert result.exit_code == 0
        assert "TopSecret-42" not in result.output and "inline-pw" not in result.output
        assert "rtsp://viewer:***@10.0.0.21:554/s1" in result.output
        assert "rtsp://admin:***@10.0.0.22/s1" in result.output
    data = json.loads(cli("site", "show", "--json").stdout)
    assert data["config"]["exams"][0]["start"] == "10:00:00"
    site = load_site(site_dir)
    assert (
        site.config.cameras[0].source == "rtsp://viewer:TopSecret-42@10.0.0.21:554/s1"
    )  # real value inside
    assert (
        site.redact("error opening rtsp://viewer:TopSecret-42@x")
        == "error opening rtsp://viewer:***@x"
    )


def test_mask_url_variants():
    assert (
        mask_url("rtsp://u:p@h/x and http://a:b@c:80/") == "rtsp://u:***@h/x and http://a:***@c:80/"
    )
    assert mask_url("rtsp://h:554/stream") == "rtsp://h:554/stream"
    assert mask_url("/dev/video0") == "/dev/video0"


def test_help_imports_neither_opencv_nor_weasyprint():
    code = (
        "import sys\n"
        "from ppe_tech.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('cv2', 'weasyprint', 'pyhanko', 'numpy', 'watchdog', 'starlette', 'uvicorn') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "Commands:" in out and "cameras" in out and "report" in out
    assert out.strip().endswith("HEAVY="), out


def test_store_migrations_are_named_and_applied_once(tmp_path):
    path = tmp_path / "ppe.db"
    conn = connect(path)
    names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [name for name, _ in all_migrations()]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    again = connect(path)  # reopening applies nothing twice
    assert again.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(names)


def test_store_that_is_not_a_database(cli, site_dir):
    (site_dir / "ppe.db").write_bytes(b"this is not sqlite" * 100)
    result = cli("check", "list")
    assert result.exit_code == 3 and "cannot open the store" in result.stderr


def test_atomic_write_and_contained_paths(tmp_path):
    target = tmp_path / "out" / "file.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]  # no temp files left
    with pytest.raises(ConfigError, match="escapes"):
        contained_path(tmp_path, "../x")
    with pytest.raises(ConfigError, match="relative"):
        contained_path(tmp_path, "/etc/passwd")
    assert contained_path(tmp_path, "a/b.txt") == (tmp_path / "a" / "b.txt").resolve()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3h55m", 14100), ("90s", 90), ("250ms", 0.25), ("1.5h", 5400), (45, 45), ("2d", 172800)],
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "3 hours", "h", "-5", "5x", "1h-2m"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_sizes_and_format():
    assert (
        parse_size("10G") == 10 * 1024**3
        and parse_size("500MB") == 500 * 1024**2
        and parse_size(7) == 7
    )
    assert format_duration(parse_duration("3h55m")) == "3h55m"
    with pytest.raises(ValueError):
        parse_size("lots")


def test_python_dash_m_and_version():
    out = subprocess.run(
        [sys.executable, "-m", "ppe_tech", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "ppe-tech" in out.stdout


def test_internal_errors_are_one_line(cli, site_dir):
    # a store file we cannot read (a folder where the database should be) is an I/O error, not a traceback
    (site_dir / "ppe.db").mkdir()
    result = cli("check", "list")
    assert result.exit_code in (3, 70)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
