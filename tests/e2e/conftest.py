"""Browser tests: a demo database served by uvicorn in a thread, driven by Playwright
in Debian's chromium (``/usr/bin/chromium``; playwright's own browser download does
not work offline). Without chromium these tests skip, unless
``ADSENTRY_BROWSER_TESTS=required`` (set by .ci/run), where they fail."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-ad demo corpus (seed 7) analyzed into a fresh database."""
    from adsentry.demo import write_corpus
    from adsentry.pipeline import analyze
    from adsentry.store import open_store

    folder = tmp_path_factory.mktemp("e2e")
    ads, labels = folder / "ads.jsonl", folder / "labels.jsonl"
    write_corpus(ads, labels, 2000, seed=7)
    db = folder / "demo.db"
    store = open_store(db)
    try:
        analyze([ads], store, db_path=db, workers=1)
    finally:
        store.close()
    return db


@pytest.fixture(scope="session")
def server(demo_db: Path) -> Iterator[str]:
    """Base URL of ``adsentry serve`` over the demo database (127.0.0.1, a free port)."""
    import uvicorn

    from adsentry.config import Config
    from adsentry.web import create_app

    app = create_app(demo_db, Config())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = _chromium()
    if path is None:
        if os.environ.get("ADSENTRY_BROWSER_TESTS") == "required":
            pytest.fail("chromium not found: install Debian's chromium (apt-get install chromium)")
        pytest.skip("chromium not found (apt-get install chromium to run the browser tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture()
def page(browser, server: str):  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=server, accept_downloads=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()
