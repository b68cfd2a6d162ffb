"""Rooms and stations: station runs, signed result files, import, per-room readiness.

- ``results``: the typed records (``StationResult``, ``StationState``, ``RoomReadiness``,
  ``PointReadiness``), storing and reading station runs, readiness of rooms and the point.
- ``resultfile``: the signed result file a station run writes (``build_result``) and its
  verification on the technician's machine (``verify_result_file``).
- ``signing``: the per-exam Ed25519 key a stick carries (``station enroll``).
- ``run``: a station's checklist run with its identity; ``confirm``: stations checked by hand.
"""
