"""Appending and reading the journal: entries, start/end, filters, bad input, append-only store."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pytest

from ppe_tech.errors import ConfigError
from ppe_tech.pak import journal
from ppe_tech.pak.chain import verify_log
from tests.pak.helpers import fill


def _count(conn) -> int:
    return conn.execute("SELECT COUNT(*) FROM pak_entries").fetchone()[0]


def test_record_action_resolves_roles_and_stamps(site, conn):
    entry = journal.record_action(
        site,
        conn,
        action="performance_check",
        rooms="Auditoriums 0001-0017, Staff room",
        start=datetime(2026, 5, 28, 10, 0),
        end=datetime(2026, 5, 28, 10, 15),
    )
    assert entry["seq"] == 1 and len(entry["hash"]) == 64
    assert entry["start_at"] == "2026-05-28T10:00:00+03:00"  # naive = the point's zone
    assert entry["performed_name"] == "Ivanov I.I." and entry["performed_role"] == "technician"
    assert entry["responsible_position"] == "head of the exam point"
    assert entry["recorded_at"].endswith("Z") and entry["os_user"]
    [row] = journal.list_entries(conn)
    assert (
        row["no"] == 1
        and row["date"] == "2026-05-28"
        and (row["start"], row["end"]) == ("10:00", "10:15")
    )
    assert row["action_ru"] == "Проверка работоспособности"
    assert row["performed_by"] == "Ivanov I.I., technical specialist"
    assert row["responsible"] == "Petrov A.A., head of the exam point"


def test_literal_person_matching_staff_gets_its_role(site, conn):
    entry = journal.record_action(
        site,
        conn,
        action="export",
        rooms="Staff room",
        start=datetime(2026, 5, 28, 15, 0),
        performed_by="Sidorova S.S., member of the commission",
        responsible="Guest G., inspector",
    )
    assert entry["performed_role"] == "commission" and entry["responsible_role"] is None


def test_start_and_end_make_one_row(site, conn, cli):
    assert (
        cli(
            "pak",
            "start",
            "-a",
            "angle_adjustment",
            "-r",
            "Auditorium 0002",
            "--date",
            "2026-05-27",
            "-s",
            "09:00",
        ).exit_code
        == 0
    )
    result = cli("pak", "end", "--at", "2026-05-27 09:20", "--note", "tilted down", "--json")
    assert result.exit_code == 0, result.stderr
    end = json.loads(result.stdout)
    assert end["kind"] == "end" and end["end_of"] == 1 and end["seq"] == 2
    rows = journal.list_entries(conn)
    assert len(rows) == 1
    assert (rows[0]["start"], rows[0]["end"], rows[0]["end_seq"]) == ("09:00", "09:20", 2)
    assert rows[0]["note"] == "tilted down" and rows[0]["open"] is False
    assert verify_log(site, conn).ok


def test_list_filters(site, conn, cli):
    fill(site, conn, 9)
    journal.record_action(
        site,
        conn,
        action="card_removal",
        rooms="Staff room",
        start=datetime(2026, 5, 28, 11, 0),
        performed_by="Guest G., inspector",
    )
    assert len(journal.list_entries(conn)) == 10
    assert len(journal.list_entries(conn, date_from="2026-05-28")) == 1
    assert len(journal.list_entries(conn, date_to="2026-05-27")) == 9
    assert len(journal.list_entries(conn, room="auditorium 0001")) == 3
    assert [r["no"] for r in journal.list_entries(conn, action="export")] == [3, 8]
    assert [r["no"] for r in journal.list_entries(conn, person="inspector")] == [10]
    assert len(journal.list_entries(conn, person="technician")) == 9  # #10 by the guest
    assert len(journal.list_entries(conn, person="Petrov")) == 10
    out = json.loads(cli("pak", "list", "--json", "--room", "Staff").stdout)
    assert [r["no"] for r in out["entries"]] == [10]
    assert "Staff room" in cli("pak", "list", "--lang", "en").stdout


def test_export_csv_and_json(site, conn, cli, tmp_path):
    fill(site, conn, 3)
    result = cli("pak", "export", "--csv", "--lang", "ru")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("№,Дата,Помещение") and len(lines) == 4
    out = tmp_path / "log.json"
    assert cli("pak", "export", "--json", "--out", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    assert len(data["entries"]) == 3 and data["point"]["code"] == "0101"
    assert not list(tmp_path.glob(".log.json.*"))  # no temp file left behind
    assert cli("pak", "export").exit_code == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "-a", "bogus", "-r", "Aud 1"], "unknown action 'bogus'"),
        (["add", "-a", "other", "-r", "Aud 1"], "needs a note"),
        (["add", "-a", "export", "-r", "Aud 1", "--by", "janitor"], "unknown staff role 'janitor'"),
        (
            ["add", "-a", "export", "-r", "Aud 1", "--responsible", "boss"],
            "unknown staff role 'boss'",
        ),
        (
            ["add", "-a", "export", "-r", "Aud 1", "-s", "10:00", "-e", "09:00"],
            "is before the start",
        ),
        (["add", "-a", "export", "-r", "Aud 1", "-s", "25:99"], "is not a time"),
        (["add", "-a", "export", "-r", "Aud 1", "--date", "yesterday"], "is not a date"),
        (["add", "-a", "export", "--no-input"], "--room is required"),
        (["end"], "no action was started"),
        (["end", "1"], "entry #1 is not the start of an action"),
        (["end", "99"], "entry #99 is not the start of an action"),
        (["list", "--from", "May"], "is not a date"),
        (["list", "--action", "dance"], "unknown action 'dance'"),
        (["audit", "--late-after", "soon"], "is not a duration"),
        (["add", "-a", "export", "-r", "Aud\x001"], "control characters are not allowed"),
        (
            ["add", "-a", "export", "-r", "Aud 1", "-n", "bell\x07"],
            "control characters are not allowed",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(site, conn, cli, args, message):
    journal.record_action(
        site, conn, action="export", rooms="Staff room", start=datetime(2026, 5, 28, 15, 0)
    )
    before = _count(conn)
    result = cli("pak", *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stderr.startswith("ppe-tech: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert _count(conn) == before


def test_end_twice_and_end_before_start(site, conn):
    start = journal.start_action(
        site, conn, action="card_removal", rooms="Aud 1", start=datetime(2026, 5, 28, 12, 0)
    )
    with pytest.raises(ConfigError, match="before the start"):
        journal.end_action(site, conn, start_seq=start["seq"], end=datetime(2026, 5, 28, 11, 0))
    journal.end_action(site, conn, start_seq=start["seq"], end=datetime(2026, 5, 28, 12, 5))
    with pytest.raises(ConfigError, match="already ended"):
        journal.end_action(site, conn, start_seq=start["seq"], end=datetime(2026, 5, 28, 12, 9))
    assert _count(conn) == 2


def test_several_open_starts_need_a_number(site, conn, cli):
    for room in ("Aud 1", "Aud 2"):
        journal.start_action(
            site, conn, action="card_removal", rooms=room, start=datetime(2026, 5, 28, 12, 0)
        )
    result = cli("pak", "end")
    assert (
        result.exit_code == 2
        and "several actions are open (#1 card_removal Aud 1, #2" in result.stderr
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE pak_entries SET body = json_set(body, '$.note', 'x') WHERE seq = 1",
        "UPDATE pak_entries SET hash = zeroblob(32)",
        "DELETE FROM pak_entries WHERE seq = 2",
        "INSERT OR REPLACE INTO pak_entries (seq, body, hash) SELECT seq, body, hash FROM pak_entries WHERE seq = 1",
        "REPLACE INTO pak_entries (seq, body, hash) SELECT seq, body, hash FROM pak_entries WHERE seq = 3",
        "INSERT INTO pak_entries (seq, body, hash) SELECT seq + 5, json_set(body, '$.seq', seq + 5), hash FROM pak_entries WHERE seq = 3",
        "UPDATE pak_meta SET log_id = 'x'",
        "DELETE FROM pak_meta",
        "INSERT OR REPLACE INTO pak_meta VALUES (1, 'other', 'now')",
        "UPDATE pak_checkpoints SET size = 1",
        "DELETE FROM pak_checkpoints",
        "INSERT OR REPLACE INTO pak_checkpoints SELECT * FROM pak_checkpoints",
    ],
)
def test_store_refuses_changes(site, conn, sql):
    from ppe_tech.pak.chain import create_checkpoint

    fill(site, conn, 3)
    create_checkpoint(site, conn)
    snapshot = conn.execute("SELECT * FROM pak_entries ORDER BY seq").fetchall()
    meta = conn.execute("SELECT * FROM pak_meta").fetchall()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    with pytest.raises(sqlite3.OperationalError, match="cannot UPDATE generated column"):
        conn.execute("UPDATE pak_entries SET note = 'x'")  # columns only follow the body
    assert conn.execute("SELECT * FROM pak_entries ORDER BY seq").fetchall() == snapshot
    assert conn.execute("SELECT * FROM pak_meta").fetchall() == meta
    assert conn.execute("SELECT COUNT(*) FROM pak_checkpoints").fetchone()[0] == 1
    assert verify_log(site, conn).ok


def test_second_end_refused_by_the_store(site, conn):
    start = journal.start_action(
        site, conn, action="card_removal", rooms="Aud 1", start=datetime(2026, 5, 28, 12, 0)
    )
    journal.end_action(site, conn, start_seq=start["seq"], end=datetime(2026, 5, 28, 12, 5))
    with pytest.raises(sqlite3.IntegrityError, match="already has an end"):
        conn.execute(
            "INSERT OR REPLACE INTO pak_entries (seq, body, hash) SELECT 3, json_set(body, '$.seq', 3), hash FROM pak_entries WHERE seq = 2"
        )
    assert _count(conn) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Аудитория № 5",
        'quote " backslash \\ slash /',
        "tab\tnewline\ncr\r",
        "\u2028\u2029 emoji \U0001f4f9",
        "",
        "   spaces   ",
    ],
)
def test_sqlite_and_python_canonical_bytes_agree(site, conn, text):
    """The stored body is canonical_bytes; the columns SQLite derives from it give it back
    (json_object over them, as the pak-0002 migration uses to carry old entries over)."""
    entry = journal.make_entry(
        site,
        kind="action",
        action="other",
        rooms="Aud 1",
        start=datetime(2026, 5, 28, 9, 0),
        end=None,
        performed_by=f"{text or 'x'}, pos",
        responsible="head",
        note=f"n {text}",
    )
    entry["rooms"] = text or "-"
    journal.append_entries(conn, [entry])
    from ppe_tech.pak.schema import CANONICAL_OF_0001

    row = conn.execute(
        f"SELECT *, CAST({CANONICAL_OF_0001} AS BLOB) AS c FROM pak_entries"
    ).fetchone()
    assert row["c"] == journal.canonical_bytes(dict(row)) == row["body"].encode()
    assert row["rooms"] == (text or "-") and row["note"] == f"n {text}".strip()
    assert verify_log(site, conn).ok


def test_store_of_the_first_schema_is_carried_over(site, tmp_path):
    """A store made with pak-0001 (plain columns) gets pak-0002: same hashes, chain intact."""
    from ppe_tech.pak.schema import MIGRATIONS
    from ppe_tech.store import connect, split_sql

    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    name, sql = MIGRATIONS[0]
    for statement in split_sql(sql):
        db.execute(statement)
    db.execute("INSERT INTO _migrations VALUES (?, 'then')", (name,))
    previous = journal.genesis_hash(db.execute("SELECT log_id FROM pak_meta").fetchone()[0])
    for seq, text in enumerate(["Аудитория 1", 'quote " \\ tab\t', "Staff room"], start=1):
        entry = journal.make_entry(
            site,
            kind="action",
            action="export",
            rooms=text,
            start=datetime(2026, 5, 28, 9, seq),
            end=None,
            performed_by="technician",
            responsible="head",
            note="",
        )
        entry["seq"] = seq
        previous = journal.entry_hash(previous, entry)
        columns = [*journal.FIELDS, "hash"]
        db.execute(
            f"INSERT INTO pak_entries ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [*(entry[c] for c in journal.FIELDS), previous],
        )
    db.close()
    conn = connect(tmp_path / "old.db")  # applies pak-0002 (and every other job's migrations)
    result = verify_log(site, conn)
    assert result.ok and result.size == 3 and result.head_hash == previous.hex()
    assert [r["rooms"] for r in journal.list_entries(conn)][0] == "Аудитория 1"
    journal.record_action(
        site, conn, action="export", rooms="x", start=datetime(2026, 5, 28, 10, 0)
    )
    assert verify_log(site, conn).ok


def test_add_prompts_for_missing_values_when_interactive(site, conn, cli, monkeypatch):
    """In a terminal, `pak add` asks for what the flags did not give (tty detection forced on)."""
    from ppe_tech.cli import pak as pak_cli

    monkeypatch.setattr(pak_cli, "_interactive", lambda no_input, as_json: True)
    answers = "card_removal\nAuditorium 0003\n10:40\nSmith J., guard\nhead\nreplaced\n"
    result = cli("pak", "add", "--date", "2026-05-28", input=answers)
    assert result.exit_code == 0, result.stderr
    [row] = journal.list_entries(conn)
    assert (row["action"], row["rooms"], row["start_at"]) == (
        "card_removal",
        "Auditorium 0003",
        "2026-05-28T10:40:00+03:00",
    )
    assert row["performed_by"] == "Smith J., guard" and row["note"] == "replaced"
    # an action not in the list is asked again, not written
    result = cli("pak", "add", input="dance\nexport\nStaff room\n11:00\n\n\n\n")
    assert result.exit_code == 0 and journal.list_entries(conn)[-1]["action"] == "export"
