"""Store tables of the reports job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = []
