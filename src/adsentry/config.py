"""Configuration: ``adsentry.toml`` in the working directory or ``--config PATH``, with
``ADSENTRY_*`` environment variables overriding it, and command-line options
overriding both.

Example ``adsentry.toml``::

    [analyze]
    db = "case.db"
    region = "US"        # fallback country for numbers without country code
    workers = 2

    [sources.dk-escorts]
    region = "DK"        # numbers in this source's ads are Danish unless they say otherwise

Environment: ``ADSENTRY_DB``, ``ADSENTRY_REGION``, ``ADSENTRY_WORKERS`` and
``ADSENTRY_SOURCE_REGIONS`` (``"dk-escorts=DK,mx-ads=MX"``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adsentry.errors import AdsentryError

DEFAULT_FILE = "adsentry.toml"


@dataclass(frozen=True, slots=True)
class Config:
    """Settings read from the config file and the environment (None = not set)."""

    db: str | None = None
    region: str | None = None
    workers: int | None = None
    source_regions: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (``path``, else ``./adsentry.toml`` when it exists) and apply
    ``ADSENTRY_*`` overrides from ``env`` (default: the process environment).

    Raises AdsentryError naming the file and the problem when ``path`` is given but
    missing, or when the file is not valid TOML or has a value of the wrong type.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    used: str | None = None
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise AdsentryError(f"{p}: config file not found")
        used = str(p)
    elif Path(DEFAULT_FILE).is_file():
        used = DEFAULT_FILE
    if used is not None:
        try:
            with open(used, "rb") as f:
                data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise AdsentryError(f"{used}: not valid TOML ({exc})") from None
        except OSError as exc:
            raise AdsentryError(f"{used}: cannot read ({exc.strerror})") from None

    _known(used, "", data, {"analyze", "sources"})
    section = data.get("analyze", {})
    if not isinstance(section, dict):
        raise AdsentryError(f"{used}: [analyze] must be a table")
    _known(used, "analyze.", section, {"db", "region", "workers"})
    db = _typed(used, "analyze.db", section.get("db"), str)
    region = _typed(used, "analyze.region", section.get("region"), str)
    workers = _typed(used, "analyze.workers", section.get("workers"), int)
    sources: dict[str, str] = {}
    for name, table in (data.get("sources") or {}).items():
        if not isinstance(table, dict):
            raise AdsentryError(f"{used}: [sources.{name}] must be a table")
        _known(used, f"sources.{name}.", table, {"region"})
        r = _typed(used, f"sources.{name}.region", table.get("region"), str)
        if r:
            sources[name] = _region_code(r, f"{used}: sources.{name}.region")

    db = env.get("ADSENTRY_DB") or db
    region = env.get("ADSENTRY_REGION") or region
    if env.get("ADSENTRY_WORKERS"):
        try:
            workers = int(env["ADSENTRY_WORKERS"])
        except ValueError:
            raise AdsentryError(
                f"ADSENTRY_WORKERS={env['ADSENTRY_WORKERS']!r}: not a whole number"
            ) from None
    for item in (env.get("ADSENTRY_SOURCE_REGIONS") or "").split(","):
        if not item.strip():
            continue
        name, sep, code = item.partition("=")
        if not sep or not name.strip() or not code.strip():
            raise AdsentryError(
                f"ADSENTRY_SOURCE_REGIONS item {item.strip()!r}: expected SOURCE=CC, e.g. dk=DK"
            )
        sources[name.strip()] = _region_code(code, "ADSENTRY_SOURCE_REGIONS")
    return Config(db, region.upper() if region else None, workers, sources, used, data)


def _known(file: str | None, prefix: str, table: Mapping[str, Any], keys: set[str]) -> None:
    """Refuse keys the config does not know, so that a typo is not silently ignored."""
    unknown = sorted(set(table) - keys)
    if unknown:
        raise AdsentryError(
            f"{file}: unknown setting {prefix}{unknown[0]} (known: "
            + ", ".join(prefix + k for k in sorted(keys))
            + ")"
        )


def _region_code(code: str, where: str) -> str:
    import phonenumbers

    value = code.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise AdsentryError(f"{where}: {code!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _typed(file: str | None, key: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AdsentryError(f"{file}: {key} must be a {kind.__name__}, not {value!r}")
    return value
