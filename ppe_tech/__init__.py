"""ppe-tech: the exam-point technician's toolkit.

Library first: every job is a plain Python API (``ppe_tech.checklist``,
``ppe_tech.cameras``, ``ppe_tech.recordings``, ``ppe_tech.pak``,
``ppe_tech.reports``); ``ppe_tech.cli`` is a thin click layer on top.
"""

__version__ = "0.1.0"
