"""FastAPI app: pages, JSON API, screening API, static assets."""

from __future__ import annotations

from adsentry.web.app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
