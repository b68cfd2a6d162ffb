"""CCTV stream verification: capture with timeouts, picture analysis, verdicts."""
