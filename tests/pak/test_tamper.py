"""The tamper suite: every edit an attacker with the database file can make is found,
and the first bad entry is named."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ppe_tech.pak.chain import create_checkpoint, verify_checkpoint, verify_log
from tests.pak.helpers import edit, fill, raw, recompute_chain


@pytest.fixture(autouse=True, params=["one chunk", "chunks of 3"])
def scan_mode(request, monkeypatch):
    """Run every case with the log in one chunk, and across chunk boundaries."""
    if request.param != "one chunk":
        from ppe_tech.pak import chain

        monkeypatch.setattr(chain, "CHUNK", 3)
    return request.param


@pytest.fixture
def log(site, conn):
    fill(site, conn, 10)
    assert verify_log(site, conn).ok
    return site, conn


def _verify_cli(cli, *files):
    args = ["pak", "verify", "--json"]
    for f in files:
        args += ["--checkpoint", str(f)]
    result = cli(*args)
    return result.exit_code, json.loads(result.stdout)


def test_intact_log_verifies(log, cli):
    code, out = _verify_cli(cli)
    assert code == 0 and out["ok"] and out["size"] == 10 and out["first_bad_entry"] is None


def test_field_edited_after_dropping_triggers(log, cli):
    site, _ = log
    with raw(site.db_path) as db:
        with pytest.raises(sqlite3.OperationalError, match="cannot UPDATE generated column"):
            db.execute("UPDATE pak_entries SET note = 'nothing happened' WHERE seq = 4")
        edit(db, 4, note="nothing happened")  # the column follows the body it is derived from
        assert (
            db.execute("SELECT note FROM pak_entries WHERE seq = 4").fetchone()[0]
            == "nothing happened"
        )
    code, out = _verify_cli(cli)
    assert code == 1 and out["first_bad_entry"] == 4
    assert "entry #4 was altered" in out["message"]


def test_body_replaced_by_a_blob(log):
    site, conn = log
    with raw(site.db_path) as db:
        db.execute(
            "UPDATE pak_entries SET body = CAST(replace(body, 'Auditorium', 'Room') AS BLOB) WHERE seq = 6"
        )
    result = verify_log(site, conn)
    assert not result.ok and result.first_bad == 6


def test_table_rebuilt_with_plain_columns(log, cli):
    """Rebuild pak_entries with ordinary columns (copying the values), then edit a column only."""
    site, _ = log
    with raw(site.db_path) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_xinfo(pak_entries)")]
        db.execute(f"CREATE TABLE copy AS SELECT {', '.join(columns)} FROM pak_entries")
        db.execute("DROP TABLE pak_entries")
        db.execute("ALTER TABLE copy RENAME TO pak_entries")
        db.execute("UPDATE pak_entries SET action = 'performance_check' WHERE seq = 3")
    code, out = _verify_cli(cli)
    assert code == 1 and "pak_entries table was rebuilt" in out["message"]
    assert out["first_bad_entry"] is None  # the chain over the bodies is still intact


def test_row_deleted(log, cli):
    site, _ = log
    with raw(site.db_path) as db:
        db.execute("DELETE FROM pak_entries WHERE seq = 5")
    code, out = _verify_cli(cli)
    assert code == 1 and out["first_bad_entry"] == 5
    assert "entry #5 is missing" in out["message"] and "deleted" in out["message"]


def test_two_rows_swapped(log, cli):
    site, _ = log
    with raw(site.db_path) as db:
        six = db.execute("SELECT body, hash FROM pak_entries WHERE seq = 6").fetchone()
        seven = db.execute("SELECT body, hash FROM pak_entries WHERE seq = 7").fetchone()
        # the bodies carry their numbers (a CHECK ties seq to the body): renumber them too
        db.execute(
            "UPDATE pak_entries SET body = json_set(?, '$.seq', 6), hash = ? WHERE seq = 6", seven
        )
        db.execute(
            "UPDATE pak_entries SET body = json_set(?, '$.seq', 7), hash = ? WHERE seq = 7", six
        )
    code, out = _verify_cli(cli)
    assert code == 1 and out["first_bad_entry"] == 6


def test_forged_row_inserted_in_the_middle(log, cli):
    site, _ = log
    with raw(site.db_path) as db:
        for seq in range(10, 4, -1):  # make room: renumber #5..#10 to #6..#11
            db.execute(
                "UPDATE pak_entries SET seq = seq + 1, body = json_set(body, '$.seq', seq + 1) "
                "WHERE seq = ?",
                (seq,),
            )
        db.execute(
            "INSERT INTO pak_entries (seq, body, hash) SELECT 5, json_set(body, '$.seq', 5, "
            "'$.action', 'card_installation', '$.note', 'forged'), hash FROM pak_entries WHERE seq = 4"
        )
    code, out = _verify_cli(cli)
    assert code == 1 and out["first_bad_entry"] == 5


def test_forged_row_appended_with_a_made_up_hash(log):
    """Even through the triggers (seq = max + 1 is allowed), a made-up hash is found."""
    site, conn = log
    with raw(site.db_path) as db:
        db.execute(
            "INSERT INTO pak_entries (seq, body, hash) SELECT 11, json_set(body, '$.seq', 11), "
            "randomblob(32) FROM pak_entries WHERE seq = 10"
        )
    result = verify_log(site, conn)
    assert not result.ok and result.first_bad == 11


def test_tail_truncated_found_by_stored_and_file_checkpoints(log, cli, tmp_path):
    site, conn = log
    cp_file = tmp_path / "cp.txt"
    cp_file.write_text(create_checkpoint(site, conn).text)
    with raw(site.db_path) as db:
        db.execute("DELETE FROM pak_entries WHERE seq >= 8")
    code, out = _verify_cli(cli)  # the stored checkpoint finds it
    assert code == 1 and out["first_bad_entry"] == 8
    assert "entries #8..#10 were removed (truncated)" in out["message"]
    with raw(site.db_path) as db:  # the attacker also removes the stored checkpoints
        db.execute("DELETE FROM pak_checkpoints")
    code, out = _verify_cli(cli)
    assert code == 0 and out["ok"] and out["size"] == 7  # the chain alone cannot see a cut tail
    code, out = _verify_cli(cli, cp_file)
    assert code == 1 and out["first_bad_entry"] == 8


def test_whole_chain_recomputed_after_an_edit(log, cli, tmp_path):
    site, conn = log
    cp_file = tmp_path / "before.txt"
    cp_file.write_text(create_checkpoint(site, conn).text)
    fill(site, conn, 2)  # the log grows after the checkpoint: still consistent
    code, out = _verify_cli(cli, cp_file)
    assert code == 0, out
    with raw(site.db_path) as db:
        edit(db, 4, action="performance_check")
        recompute_chain(db)
        db.execute("DELETE FROM pak_checkpoints")
    code, out = _verify_cli(cli)
    assert code == 0 and out["ok"], "a recomputed chain is consistent in itself"
    code, out = _verify_cli(cli, cp_file)
    assert code == 1 and not out["ok"]
    assert "rewritten" in out["message"] and out["first_bad_range"] == [1, 10]
    check = verify_checkpoint(site, conn, cp_file.read_text())
    assert not check.ok and check.signature_ok is True and "rewritten" in check.message


def test_recomputed_chain_narrowed_by_two_checkpoints(log, cli, tmp_path):
    site, conn = log
    early = tmp_path / "early.txt"
    early.write_text(create_checkpoint(site, conn).text)  # covers #1..#10
    fill(site, conn, 5)
    late = tmp_path / "late.txt"
    late.write_text(create_checkpoint(site, conn).text)  # covers #1..#15
    with raw(site.db_path) as db:
        edit(db, 13, note="x")
        recompute_chain(db)
        db.execute("DELETE FROM pak_checkpoints")
    code, out = _verify_cli(cli, early, late)
    assert code == 1 and out["first_bad_range"] == [11, 15]


@pytest.mark.parametrize("how", ["signature byte", "size line", "other key"])
def test_checkpoint_with_a_bad_signature(log, cli, tmp_path, how):
    site, conn = log
    text = create_checkpoint(site, conn).text
    body, _, sig = text.partition("\n\n")
    if how == "signature byte":
        import base64

        dash, name, blob = sig.strip().split(" ")
        raw_sig = bytearray(base64.b64decode(blob))
        raw_sig[-1] ^= 1
        text = f"{body}\n\n{dash} {name} {base64.b64encode(bytes(raw_sig)).decode()}\n"
    elif how == "size line":
        lines = body.split("\n")
        lines[1] = "9"
        text = "\n".join(lines) + "\n\n" + sig
    else:
        from cryptography.hazmat.primitives.asymmetric import ec

        from ppe_tech.pak.checkpoint import DASH, key_id, sign

        other = ec.generate_private_key(ec.SECP256R1())
        blob = base64_sig = key_id(other.public_key()) + sign(other, (body + "\n").encode())
        import base64

        base64_sig = base64.b64encode(blob).decode()
        text = f"{body}\n\n{DASH} ppe-tech-site-0101 {base64_sig}\n"
    cp_file = tmp_path / "cp.txt"
    cp_file.write_text(text)
    code, out = _verify_cli(cli, cp_file)
    assert code == 1 and not out["ok"]
    bad = [c for c in out["checkpoints"] if c["source"] == str(cp_file)][0]
    assert bad["signature_ok"] is False and "bad signature" in bad["message"]
    check = verify_checkpoint(site, conn, text)
    assert not check.ok and check.signature_ok is False


def test_malformed_checkpoint_file(log, cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    code, out = _verify_cli(cli, bad)
    assert code == 1 and "not a PAK checkpoint" in out["message"]
    result = cli("pak", "verify", "--checkpoint", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_checkpoint_of_another_log(log, tmp_path, site_dir):
    """A valid checkpoint of a different log (another store) does not vouch for this one."""
    from ppe_tech.store import connect

    site, conn = log
    other = connect(tmp_path / "other.db")
    fill(site, other, 3)
    text = create_checkpoint(site, other).text
    check = verify_checkpoint(site, conn, text)
    assert not check.ok and "another log" in check.message


def test_refuses_to_sign_a_broken_chain(log, cli):
    site, _ = log
    with raw(site.db_path) as db:
        edit(db, 2, note="x")
    result = cli("pak", "checkpoint")
    assert result.exit_code == 1 and "refusing to sign" in result.stderr


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7])
def test_every_chunking_finds_the_same_first_bad_entry(site, conn, size, monkeypatch):
    from ppe_tech.pak import chain

    fill(site, conn, size)
    heads = {}
    for chunk in (1, 2, 3, 100):
        monkeypatch.setattr(chain, "CHUNK", chunk)
        heads[chunk] = chain.scan_chain(conn, want={size})
    for scan in heads.values():
        assert scan.ok and scan.size == size and scan.head_hash == heads[1].head_hash
        assert scan.hashes_at[size].hex() == scan.head_hash
    for bad in range(1, size + 1):  # an edit anywhere is found at the same place by every split
        with raw(site.db_path) as db:
            original = db.execute("SELECT body FROM pak_entries WHERE seq = ?", (bad,)).fetchone()[
                0
            ]
            edit(db, bad, note="x")
        for chunk in (1, 2, 3, 100):
            monkeypatch.setattr(chain, "CHUNK", chunk)
            assert chain.scan_chain(conn).first_bad == bad
        with raw(site.db_path) as db:
            db.execute("UPDATE pak_entries SET body = ? WHERE seq = ?", (original, bad))
        assert chain.scan_chain(conn).ok
