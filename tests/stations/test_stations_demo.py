"""The stations demo step on the demo site: two real station runs in their own processes,
three in-process runs, one hand confirmation, one station never checked."""

from __future__ import annotations

from types import SimpleNamespace

import yaml

from ppe_tech.demo import STATION_SOFTWARE, demo_config
from ppe_tech.demo_services import PortalServer, SntpServer
from ppe_tech.site import load_site
from ppe_tech.stations import demo as stations_demo
from ppe_tech.stations.results import list_station_runs, point_readiness
from ppe_tech.store import connect
from ppe_tech.timeutil import utc_now


def test_demo_step(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    with PortalServer() as portal, SntpServer() as ntp:
        config = demo_config(utc_now(), portal, ntp, folder)
        # the demo looks for its own ppe-tech process; the in-process runs here are pytest's
        config["checks"]["vars"]["crypto_process"] = "ppe.tech|pytest"
        folder.mkdir()
        (folder / "ppe.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        )
        (folder / STATION_SOFTWARE).parent.mkdir()
        (folder / STATION_SOFTWARE).write_text("Station print EM 26.1.4\n")
        monkeypatch.setenv("PPE_SITE", str(folder))
        site = load_site(folder)
        conn = connect(site.db_path)
        demo = SimpleNamespace(site=site, db=conn, folder=folder, exam_id=config["exams"][1]["id"])
        summary = stations_demo.run(demo)
    assert "\n" not in summary
    assert summary.startswith(
        "5 result files imported from results/ (0 refused), auth-backup confirmed"
    )
    assert "auditorium 0003: print station print-0003 never checked" in summary
    runs = list_station_runs(conn, exam_id=demo.exam_id)
    how = {r.station_id: (r.how, r.status) for r in runs}
    assert how == {
        "print-0001": ("station run", "passed"),
        "print-0002": ("station run", "passed"),
        "scan-0001": ("station run", "passed"),
        "auth-main": ("station run", "passed"),
        "print-backup": ("station run", "passed"),
        "auth-backup": ("by hand", "passed"),
    }
    processes = {r.station_id: r.machine for r in runs if r.station_id.startswith("print-000")}
    assert all(facts and facts["host_name"] for facts in processes.values())
    by_hand = [r for r in runs if r.how == "by hand"][0]
    assert by_hand.reachable["reachable"] is True  # the portal stand-in answers on its port
    software = {i.item_id: i.value for i in runs[0].items}["station-software"]
    assert software == "26.1.4"  # read from the version file, not python --version
    readiness = point_readiness(conn, site, site.exam(demo.exam_id))
    assert not readiness.ready
    # this test runs no camera verification: every other reason is a camera not verified
    station_reasons = [x for r in readiness.rooms for x in r.reasons if "camera" not in x]
    assert station_reasons == ["print station print-0003 never checked"]
