"""Imports every area's models so that metadata (and Alembic) sees the whole schema."""


__all__ = [name for name in dir() if name[0].isupper()]
