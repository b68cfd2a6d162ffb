"""The PAK access log: hash-chained entries, signed checkpoints, audit rules."""
