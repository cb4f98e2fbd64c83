"""Readers and writers; quarantine for records that cannot be read."""

from adsentry.io.readers import (
    DEFAULT_FIELD_MAP,
    MAX_RECORD_BYTES,
    AdReader,
    ReadStats,
    Rejected,
    parse_field_map,
)

__all__ = [
    "DEFAULT_FIELD_MAP",
    "MAX_RECORD_BYTES",
    "AdReader",
    "ReadStats",
    "Rejected",
    "parse_field_map",
]
