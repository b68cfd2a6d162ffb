"""ppe-tech: the exam-point technician's toolkit.

Library first: every job is a plain Python API (``ppe_tech.checklist``,
``ppe_tech.cameras``, ``ppe_tech.recordings``, ``ppe_tech.pak``,
``ppe_tech.reports``); ``ppe_tech.cli`` is a thin click layer on top.
"""

import warnings

__version__ = "0.1.0"

# A library's notice to its own developers, not a message for the technician: pyHanko imports
# cryptography's DSA, which cryptography 51 deprecates, and the warning would land on every
# command's stderr. Set here so that every process importing ppe_tech (the worker processes
# too) drops it before pyHanko is imported.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")
