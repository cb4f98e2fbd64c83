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

    [score.weights]      # see docs/scoring.md; defaults in adsentry.score.DEFAULT_WEIGHTS
    obscured_contact = 0.2

    [policy]             # decisions: score >= review -> review, >= hold -> hold
    review = 0.4
    hold = 0.7

    [server]
    host = "127.0.0.1"   # another address needs api_keys (authentication)
    port = 8000
    api_keys = ["a-long-random-key"]

Environment: ``ADSENTRY_DB``, ``ADSENTRY_REGION``, ``ADSENTRY_WORKERS``,
``ADSENTRY_SOURCE_REGIONS`` (``"dk-escorts=DK,mx-ads=MX"``), ``ADSENTRY_WEIGHTS``
(``"youth_language=0.25,network=0.3"``), ``ADSENTRY_POLICY_REVIEW``,
``ADSENTRY_POLICY_HOLD``, ``ADSENTRY_API_KEYS`` (comma-separated), ``ADSENTRY_HOST``,
``ADSENTRY_PORT``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adsentry.errors import AdsentryError
from adsentry.score import (
    DEFAULT_POLICY,
    DEFAULT_WEIGHTS,
    ScoreSettings,
    known_codes,
    parse_weights,
)

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
    weights: Mapping[str, float] = field(default_factory=dict)
    review: float | None = None
    hold: float | None = None
    api_keys: tuple[str, ...] = ()
    host: str | None = None
    port: int | None = None

    def score_settings(self) -> ScoreSettings:
        """The weights (defaults overridden by the config) and policy thresholds.

        Raises AdsentryError when they are out of range.
        """
        weights = dict(DEFAULT_WEIGHTS)
        weights.update(self.weights)
        try:
            return ScoreSettings(
                weights,
                DEFAULT_POLICY["review"] if self.review is None else self.review,
                DEFAULT_POLICY["hold"] if self.hold is None else self.hold,
            )
        except ValueError as exc:
            raise AdsentryError(f"{self.path or 'settings'}: {exc}") from None


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

    _known(used, "", data, {"analyze", "sources", "score", "policy", "server"})
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

    weights, review, hold = _score_section(used, data)
    server = data.get("server", {})
    if not isinstance(server, dict):
        raise AdsentryError(f"{used}: [server] must be a table")
    _known(used, "server.", server, {"host", "port", "api_keys"})
    host = _typed(used, "server.host", server.get("host"), str)
    port = _typed(used, "server.port", server.get("port"), int)
    keys_value = server.get("api_keys")
    if keys_value is not None and (
        not isinstance(keys_value, list) or not all(isinstance(k, str) for k in keys_value)
    ):
        raise AdsentryError(f"{used}: server.api_keys must be a list of strings")
    api_keys = tuple(k for k in (keys_value or []) if k)

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
    if env.get("ADSENTRY_WEIGHTS"):
        try:
            weights.update(_checked_weights(parse_weights(env["ADSENTRY_WEIGHTS"])))
        except ValueError as exc:
            raise AdsentryError(f"ADSENTRY_WEIGHTS: {exc}") from None
    review = _env_float(env, "ADSENTRY_POLICY_REVIEW", review)
    hold = _env_float(env, "ADSENTRY_POLICY_HOLD", hold)
    if env.get("ADSENTRY_API_KEYS"):
        api_keys = tuple(k.strip() for k in env["ADSENTRY_API_KEYS"].split(",") if k.strip())
    host = env.get("ADSENTRY_HOST") or host
    if env.get("ADSENTRY_PORT"):
        try:
            port = int(env["ADSENTRY_PORT"])
        except ValueError:
            raise AdsentryError(
                f"ADSENTRY_PORT={env['ADSENTRY_PORT']!r}: not a whole number"
            ) from None
    return Config(
        db,
        region.upper() if region else None,
        workers,
        sources,
        used,
        data,
        weights,
        review,
        hold,
        api_keys,
        host,
        port,
    )


def _score_section(
    used: str | None, data: Mapping[str, Any]
) -> tuple[dict[str, float], float | None, float | None]:
    score = data.get("score", {})
    policy = data.get("policy", {})
    for name, table in (("score", score), ("policy", policy)):
        if not isinstance(table, dict):
            raise AdsentryError(f"{used}: [{name}] must be a table")
    _known(used, "score.", score, {"weights"})
    _known(used, "policy.", policy, {"review", "hold"})
    raw_weights = score.get("weights", {})
    if not isinstance(raw_weights, dict):
        raise AdsentryError(f"{used}: [score.weights] must be a table")
    weights: dict[str, float] = {}
    for code, w in raw_weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float):
            raise AdsentryError(f"{used}: score.weights.{code} must be a number, not {w!r}")
        weights[code] = float(w)
    try:
        weights = _checked_weights(weights)
    except ValueError as exc:
        raise AdsentryError(f"{used}: {exc}") from None
    review = _number(used, "policy.review", policy.get("review"))
    hold = _number(used, "policy.hold", policy.get("hold"))
    return weights, review, hold


def _checked_weights(weights: dict[str, float]) -> dict[str, float]:
    known = known_codes()
    for code in weights:
        if code not in known:
            raise ValueError(f"unknown score weight {code!r} (known: {', '.join(sorted(known))})")
    return weights


def _number(file: str | None, key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AdsentryError(f"{file}: {key} must be a number, not {value!r}")
    return float(value)


def _env_float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    if not env.get(name):
        return default
    try:
        return float(env[name])
    except ValueError:
        raise AdsentryError(f"{name}={env[name]!r}: not a number") from None


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
