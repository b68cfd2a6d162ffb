"""Secrets where they belong (issue 15, item 7): a password written in ppe.yaml draws a warning
naming its line and the fix; a missing key passphrase is asked at a terminal, and the error
elsewhere says what to export."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import yaml

from tests.checklist.conftest import read_until
from tests.conftest import minimal_config, write_site


def _site_with_source(site_dir, source: str):
    camera = {"id": "corridor-1", "zone": "corridor", "room": "1st floor", "source": source}
    write_site(site_dir, minimal_config(cameras=[camera]))
    lines = (site_dir / "ppe.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "source:" in line)


def test_a_password_written_in_the_file_is_warned_with_its_line(cli, site_dir):
    line = _site_with_source(site_dir, "rtsp://admin:Qwerty123@10.0.0.9:554/stream1")
    result = cli("cameras", "list")
    warning = next(w for w in result.stderr.splitlines() if "password" in w)
    assert warning.startswith(f"ppe-tech: warning: ppe.yaml:{line}: camera corridor-1: ")
    assert "${CAM_PASSWORD}" in warning and "export CAM_PASSWORD" in warning
    assert "Qwerty123" not in result.stderr + result.stdout  # the warning never shows it


def test_in_russian(cli, site_dir, monkeypatch):
    _site_with_source(site_dir, "rtsp://admin:Qwerty123@10.0.0.9:554/stream1")
    monkeypatch.setenv("PPE_LANG", "ru")
    result = cli("cameras", "list")
    assert "пароль записан в ppe.yaml" in result.stderr


def test_a_password_from_the_environment_is_not_warned(cli, site_dir, monkeypatch):
    _site_with_source(site_dir, "rtsp://admin:${CAM_PASSWORD}@10.0.0.9:554/stream1")
    monkeypatch.setenv("CAM_PASSWORD", "Qwerty123")
    result = cli("cameras", "list")
    assert result.exit_code == 0 and "password" not in result.stderr


def _env_without_passphrase() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPE_KEY_PASSPHRASE")}
    return {**env, "PPE_LANG": "en"}


def test_without_a_terminal_the_error_says_what_to_export(site_dir):
    result = subprocess.run(
        [sys.executable, "-m", "ppe_tech", "keys", "init"],
        env=_env_without_passphrase(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and len(result.stderr.splitlines()) == 1
    assert "export PPE_KEY_PASSPHRASE=" in result.stderr
    assert not (site_dir / "keys").exists() or not any((site_dir / "keys").iterdir())


def test_at_a_terminal_the_passphrase_is_asked_hidden(site_dir):
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "ppe_tech", "keys", "init"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        env=_env_without_passphrase(),
    )
    os.close(terminal)
    try:
        read_until(controller, "new passphrase of the site key (or export PPE_KEY_PASSPHRASE)")
        os.write(controller, b"typed-secret-42\n")
        screen = read_until(controller, "sha256:")
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()
        child.wait()
        os.close(controller)
    assert "typed-secret-42" not in screen  # hidden input: never echoed
    key = next((site_dir / "keys").glob("*.key.pem")).read_bytes()
    assert b"ENCRYPTED" in key
    # the key opens with what was typed, and only with it
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    load_pem_private_key(key, b"typed-secret-42")
    config = yaml.safe_load((site_dir / "ppe.yaml").read_text())
    assert "typed-secret-42" not in str(config)
