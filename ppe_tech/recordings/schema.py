"""Store tables of the recordings job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = []
