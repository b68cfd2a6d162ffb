"""Store tables of the pak job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = []
