"""Recordings: segment index, gap finder, live watcher, archiver (BagIt), verifier."""
