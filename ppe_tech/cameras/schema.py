"""Store tables of the cameras job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = []
