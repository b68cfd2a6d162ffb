"""Stations checked by hand; probes of one platform fall back to the manual question elsewhere."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from ppe_tech.checklist.answers import parse_confirm
from ppe_tech.checklist.model import load_checklist
from ppe_tech.checklist.probes.system import split_command
from ppe_tech.checklist.runner import UNANSWERED, run_checklist
from ppe_tech.site import load_site
from tests.conftest import write_site
from tests.stations.conftest import station_config


def test_confirm_by_hand_with_answers_file(checked_site: Path, tmp_path: Path, cli):
    site = load_site(checked_site)
    items = [i.id for i in load_checklist("station-authorisation", site).items]
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({i: "yes" for i in items if i != "token-reader"}))
    result = cli(
        "station",
        "confirm",
        "--station",
        "auth-main",
        "--exam",
        "2026-05-28-math",
        "--answers",
        str(answers),
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["result"]
    assert data["how"] == "by hand" and data["status"] == "passed"
    assert data["confirmed_by"].startswith("Ivanov I.I. (")
    asked = {i["item_id"]: i for i in data["items"]}
    assert asked["station-clock"]["kind"] == "clock" and asked["station-clock"]["value"] == "yes"
    assert "token-reader" not in asked  # disabled at this site
    states = json.loads(cli("stations", "--exam", "2026-05-28-math", "--json").stdout)
    staff = [r for r in states["rooms"] if r["number"] == "7777"][0]
    assert staff["stations"][0]["state"] == "confirmed"
    assert staff["stations"][0]["reason"] == "confirmed by hand"


def test_confirm_checks_the_host_on_the_lan(checked_site: Path, cli):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        config = yaml.safe_load((checked_site / "ppe.yaml").read_text())
        config["stations"][0].update(host="127.0.0.1", port=port)
        config["stations"][1].update(host="127.0.0.1", port=1)  # nothing listens on port 1
        write_site(checked_site, config)
        up = cli(
            "station",
            "confirm",
            "--station",
            "print-0001",
            "--exam",
            "2026-05-28-math",
            "--no-input",
            "--json",
        )
        down = cli(
            "station",
            "confirm",
            "--station",
            "scan-0001",
            "--exam",
            "2026-05-28-math",
            "--no-input",
        )
    reach = json.loads(up.stdout)["result"]["reachable"]
    assert reach["reachable"] is True and reach["port"] == port
    assert up.exit_code == 1  # nothing was answered: unanswered critical items are no pass
    assert "127.0.0.1:1 does NOT answer on the LAN" in down.stdout


def test_confirm_unanswered_is_not_a_pass(checked_site: Path, cli):
    result = cli(
        "station",
        "confirm",
        "--station",
        "print-0002",
        "--exam",
        "2026-05-28-math",
        "--no-input",
        "--json",
    )
    assert result.exit_code == 1
    statuses = {i["status"] for i in json.loads(result.stdout)["result"]["items"]}
    assert statuses == {UNANSWERED}


@pytest.fixture
def hardware_site(checked_site: Path) -> Path:
    """The checked site with its printer, scanner and token items enabled again."""
    config = yaml.safe_load((checked_site / "ppe.yaml").read_text())
    config["checks"]["disabled"] = []
    return write_site(checked_site, config)


@pytest.mark.parametrize(
    ("checklist", "item", "platform"),
    [
        ("station-print", "printer-ready", "win32"),
        ("station-scan", "scanner-connected", "win32"),
        ("station-scan", "scanner-connected", "darwin"),
        ("station-print", "printer-ready", "freebsd"),
    ],
)
def test_platform_probe_falls_back_to_the_question(hardware_site: Path, checklist, item, platform):
    site = load_site(hardware_site)
    loaded = load_checklist(checklist, site, station=site.station("print-0001"))
    only = type(loaded)(
        loaded.name, loaded.title, [i for i in loaded.items if i.id == item], loaded.path
    )
    unanswered = run_checklist(only, site, platform=platform).results[0]
    assert unanswered.status == UNANSWERED  # neither failed nor passed
    assert unanswered.message.startswith(
        f"{only.items[0].kind} probe not available on this platform ({platform})"
    )
    answered = run_checklist(only, site, answers=parse_confirm((item,), "tech"), platform=platform)
    assert answered.results[0].status == "pass" and answered.results[0].value == "yes"
    assert answered.results[0].item.question.en.endswith("?")


def test_the_same_probe_runs_on_its_own_platform(hardware_site: Path):
    site = load_site(hardware_site)
    loaded = load_checklist("station-print", site, station=site.station("print-0001"))
    only = type(loaded)(
        loaded.name, loaded.title, [i for i in loaded.items if i.id == "printer-ready"], loaded.path
    )
    result = run_checklist(only, site, platform="linux").results[0]
    assert result.status in ("fail", "error", "timeout")  # really probed: no CUPS queue here
    assert "not available" not in result.message


def test_software_in_the_registry_is_asked_off_windows(site_dir: Path, tmp_path: Path):
    config = station_config(
        checks={
            "vars": {
                "ntp_server": "127.0.0.1",
                "station_version": ">=26.1",
                "station_program": "Станция печати",
                "station_version_command": "false",
                "antivirus_process": "x",
                "antivirus_signatures": "x",
            }
        }
    )
    write_site(site_dir, config)
    site = load_site(site_dir)
    loaded = load_checklist("station-print", site, station=site.station("print-0001"))
    item = [i for i in loaded.items if i.id == "station-software"][0]
    assert item.probe.program == "Станция печати" and item.probe.argv is None  # program wins
    result = run_checklist(
        type(loaded)(loaded.name, loaded.title, [item], loaded.path), site, platform="linux"
    ).results[0]
    assert result.status == UNANSWERED and "software probe not available" in result.message
    assert "26.1" in item.question.en


def test_identity_is_in_the_question(checked_site: Path):
    site = load_site(checked_site)
    loaded = load_checklist("station-scan", site, station=site.station("scan-0001"))
    question = [i for i in loaded.items if i.id == "station-identity"][0].question.en
    assert question == "Station software shows exam-point code 0101 and room 0001?"


@pytest.mark.parametrize(
    ("text", "platform", "argv"),
    [
        (
            r'"C:\Program Files\Station\station.exe" --version',
            "win32",
            [r"C:\Program Files\Station\station.exe", "--version"],
        ),
        (r"C:\Station\station.exe /v", "win32", [r"C:\Station\station.exe", "/v"]),
        (
            r"/opt/station/bin/station '--ver sion'",
            "linux",
            ["/opt/station/bin/station", "--ver sion"],
        ),
    ],
)
def test_commands_split_for_their_platform(text, platform, argv):
    assert split_command(text, platform) == argv


def test_registry_keys_and_software_sources_are_checked(make_probe_checklist):
    from ppe_tech.checklist.probes.registry import split_key

    assert split_key(r"HKLM\SOFTWARE\Vendor") == ("HKEY_LOCAL_MACHINE", r"SOFTWARE\Vendor")
    assert split_key("hkcu/Software/X") == ("HKEY_CURRENT_USER", r"Software\X")
    with pytest.raises(ValueError):
        split_key(r"HKXX\SOFTWARE")
    message = make_probe_checklist({"type": "registry", "key": "SOFTWARE", "version": ">=1"})
    assert "probe.key: 'SOFTWARE': expected HKLM" in message
    message = make_probe_checklist({"type": "software", "version": ">=1", "argv": ""})
    assert "probe: give one of program, file, argv" in message


@pytest.fixture
def make_probe_checklist(site_dir: Path):
    from ppe_tech.errors import ConfigError
    from tests.checklist.conftest import write_checklist

    def make(probe: dict) -> str:
        write_checklist(site_dir / "checklists", "one", [{"id": "x", "title": "X", "probe": probe}])
        with pytest.raises(ConfigError) as caught:
            load_checklist("one", load_site(site_dir))
        return caught.value.message

    return make
