"""Issue 10 item 12: every exit 70 the attack found becomes its documented code, in one line.

Out-of-range durations and dates, NUL bytes in ppe.yaml, bytes that are not UTF-8 in a log
entry, a checkpoint or bag-info.txt, a damaged page of ppe.db, a signed PDF whose
results.json is not a JSON object, output to a full device or a closed pipe.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.attack.conftest import (
    DEMO_PASSPHRASE,
    assert_clean_exit,
    assert_one_line_error,
    ppe_command,
    ppe_env,
)

BOUND_S = 60  # each command takes a second or two; a hang or a runaway is what fails


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    [
        ("duration: 3h55m", "duration: 99999999999999999999999h", "out of range"),
        ("duration: 3h55m", "duration: .inf", "out of range"),
        ("duration: 3h55m", "duration: 1.0e+300", "out of range"),
        ("date: '2026-05-28'", "date: 0001-01-01", "not a plausible exam date"),
        ("date: '2026-05-28'", "date: 9999-12-31", "not a plausible exam date"),
        ("subject: Mathematics", 'subject: "Math\x00ematics"', "character #x0000"),
    ],
)
def test_config_values_out_of_range(ppe, site_dir, replace, with_, expected):
    text = (site_dir / "ppe.yaml").read_text()
    assert replace in text
    (site_dir / "ppe.yaml").write_text(text.replace(replace, with_))
    for args in (("site", "show"), ("check", "list")):
        line = assert_one_line_error(ppe(*args, timeout=BOUND_S), 2, contains=expected)
        assert "ppe.yaml:" in line


def attacker(db: Path) -> sqlite3.Connection:
    """Plain sqlite3 on the store with the PAK log's append-only triggers dropped."""
    conn = sqlite3.connect(db, isolation_level=None)
    names = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'pak_%'"
    ).fetchall()
    for (name,) in names:
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def break_utf8(conn: sqlite3.Connection, seq: int, *, recompute: bool) -> None:
    body = conn.execute("SELECT CAST(body AS BLOB) FROM pak_entries WHERE seq = ?", (seq,))
    bad = body.fetchone()[0].replace(b'"action"', b'"act\xffion"', 1)
    conn.execute("UPDATE pak_entries SET body = CAST(? AS TEXT) WHERE seq = ?", (bad, seq))
    if recompute:  # a careful forger: every hash recomputed (the stored checkpoints see it)
        from ppe_tech.pak.journal import genesis_hash

        previous = genesis_hash(conn.execute("SELECT log_id FROM pak_meta").fetchone()[0])
        rows = conn.execute("SELECT seq, CAST(body AS BLOB) FROM pak_entries ORDER BY seq")
        for number, raw in rows.fetchall():
            previous = hashlib.sha256(previous + raw).digest()
            conn.execute("UPDATE pak_entries SET hash = ? WHERE seq = ?", (previous, number))


@pytest.mark.parametrize("recompute", [False, True], ids=["edited", "chain-recomputed"])
def test_log_entry_not_utf8_is_tampering(demo_ppe, demo_site, recompute):
    with attacker(demo_site / "ppe.db") as conn:
        break_utf8(conn, 3, recompute=recompute)
    verify = demo_ppe("pak", "verify", timeout=BOUND_S)
    assert_clean_exit(verify, 1)
    assert (
        "TAMPERED: first bad entry between #1 and" if recompute else "TAMPERED: first bad entry #3"
    ) in verify.stdout
    for args, code in (
        (("pak", "list"), 0),
        (("pak", "audit"), 1),
        (("pak", "export", "--csv"), 0),
    ):
        assert_clean_exit(demo_ppe(*args, timeout=BOUND_S), code)
    if not recompute:  # a checkpoint is never signed over a broken chain
        refused = demo_ppe("pak", "checkpoint", "--out", str(demo_site / "cp.txt"), timeout=BOUND_S)
        assert_one_line_error(refused, 1, contains="entry #3 is not UTF-8")
        assert not (demo_site / "cp.txt").exists()


def test_checkpoint_file_not_utf8_fails_verification(demo_ppe, demo_site):
    checkpoint = next((demo_site / "pak").glob("checkpoint-*.txt"))
    forged = demo_site / "forged.txt"
    forged.write_bytes(checkpoint.read_bytes().replace(b"\n", b"\xff\n", 1))
    ran = demo_ppe("pak", "verify", "--checkpoint", str(forged), timeout=BOUND_S)
    assert_clean_exit(ran, 1)
    assert "FAIL" in ran.stdout and "forged.txt" in ran.stdout


def test_damaged_store_page(demo_ppe, demo_site):
    db = demo_site / "ppe.db"
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'pak_entries'")
        page = root.fetchone()[0]
    with db.open("r+b") as fh:  # the log's first page becomes garbage: a bad sector
        fh.seek((page - 1) * page_size)
        fh.write(b"\x0d" + b"\xff" * (page_size - 1))
    before = db.read_bytes()
    for args in (("pak", "list"), ("pak", "verify"), ("pak", "audit")):
        assert_one_line_error(demo_ppe(*args, timeout=BOUND_S), 3, contains="the store is damaged")
    assert db.read_bytes() == before  # nothing wrote over the evidence


def test_bag_info_not_utf8(demo_ppe, demo_site):
    bag = next((demo_site / "archive").iterdir())
    with (bag / "bag-info.txt").open("ab") as fh:
        fh.write(b"Source-Organization: caf\xe9\n")
    full = demo_ppe("recordings", "verify", str(bag), timeout=BOUND_S)
    assert_clean_exit(full, 1)  # the tag manifest finds bag-info.txt changed: INVALID
    assert "INVALID" in full.stdout
    fast = demo_ppe("recordings", "verify", "--fast", str(bag), timeout=BOUND_S)
    assert fast.returncode in (0, 1) and "Traceback" not in fast.output, str(fast)


def _signed_pdf_with(site_dir: Path, results: bytes) -> Path:
    """A PDF signed with the site key whose results.json holds ``results`` (a forger's)."""
    from weasyprint import HTML, Attachment

    from ppe_tech.reports.sign import sign_pdf
    from ppe_tech.site import load_site

    pdf = HTML(string="<p>Акт</p>").write_pdf(
        attachments=[Attachment(file_obj=io.BytesIO(results), name="results.json")]
    )
    signed = sign_pdf(load_site(site_dir), pdf, "technician", passphrase=DEMO_PASSPHRASE.encode())
    path = site_dir / "reports" / "forged.pdf"
    path.write_bytes(signed)
    return path


@pytest.mark.parametrize("results", [b"not json {", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_signed_pdf_whose_data_is_not_an_object(demo_ppe, demo_site, results):
    path = _signed_pdf_with(demo_site, results)
    verify = demo_ppe("report", "verify", str(path), timeout=BOUND_S)
    assert_clean_exit(verify, 1)
    assert "FAILED" in verify.output and "not a JSON object" in verify.output
    before = path.read_bytes()
    refused = demo_ppe("report", "sign", str(path), "--as", "head", timeout=BOUND_S)
    assert_one_line_error(refused, 1, contains="not a JSON object")
    assert path.read_bytes() == before


def test_output_to_a_full_device(demo_site):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            ppe_command("report", "list", site=demo_site),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=ppe_env(),
            timeout=BOUND_S,
        )
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["ppe-tech: error: cannot write the output: no space left on the device"]


@pytest.mark.parametrize("args", [("report", "list"), ("pak", "list"), ("pak", "export", "--csv")])
def test_output_to_a_closed_pipe(demo_site, args):
    """`ppe-tech report list | head -0`: the reader is gone before the first byte."""
    proc = subprocess.Popen(
        ppe_command(*args, site=demo_site),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ppe_env(),
    )
    proc.stdout.close()
    _, err = proc.communicate(timeout=BOUND_S)
    assert proc.returncode == 3, err
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "broken pipe" in lines[0] and "Traceback" not in lines[0]
