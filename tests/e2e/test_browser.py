"""search -> ad -> network -> export in a real browser, on a demo database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from adsentry.store import open_store

from .conftest import SCREENSHOTS


def _top_phone(db: Path) -> tuple[str, int]:
    store = open_store(db, create=False)
    try:
        (value, n), *_ = store.top_values("phone", 1)
    finally:
        store.close()
    return str(value), n


def test_search_ad_network_export(page, demo_db: Path) -> None:  # type: ignore[no-untyped-def]
    e164, carried = _top_phone(demo_db)
    assert e164.startswith("+1")
    written = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"  # the number as a person types it

    # search: the phone typed another way finds the ads that carry it
    page.goto("/")
    page.fill("#quick-q", written)
    page.press("#quick-q", "Enter")
    page.wait_for_selector("#result-count")
    count = page.inner_text("#result-count")
    assert count.startswith(f"{carried:,} ad"), count
    assert e164 in count
    page.screenshot(path=str(SCREENSHOTS / "1-search.png"), full_page=True)

    # ad page: the phone is highlighted as real markup
    page.click("table a >> nth=0")
    page.wait_for_selector("#ad-body")
    marks = page.locator("#ad-title mark.phone, #ad-body mark.phone")
    assert marks.count() >= 1
    assert (marks.first.get_attribute("title") or "").startswith("phone")
    assert marks.first.is_visible()
    page.screenshot(path=str(SCREENSHOTS / "2-ad.png"), full_page=True)

    # network page: its size, a drawn graph, and the evidence of a link on click
    page.click("#ad-network a")
    page.wait_for_selector("#network-size")
    size = int(page.get_attribute("#network-size", "data-size") or "0")
    network_id = page.inner_text("#network-id")
    store = open_store(demo_db, create=False)
    try:
        assert size == len(store.network_members_of(network_id)) >= carried
    finally:
        store.close()
    page.wait_for_selector("#graph canvas")
    page.click("details:has(#edge-list) summary")
    first_edge = page.locator(".edge-button").first
    evidence = first_edge.inner_text()
    first_edge.click()
    assert page.inner_text("#evidence") == evidence
    assert evidence.strip()
    page.screenshot(path=str(SCREENSHOTS / "3-network.png"), full_page=True)

    # export: the ads as CSV (a download) and the printable evidence report
    with page.expect_download() as dl:
        page.click("text=ads (CSV)")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == size
    assert {"source", "ad_id"} <= set(rows[0])
    page.click("#report-link")
    page.wait_for_load_state()
    report = page.content()
    assert network_id in report
    store = open_store(demo_db, create=False)
    try:
        first = store.ad_by_key(rows[0]["source"], rows[0]["ad_id"])
    finally:
        store.close()
    assert first is not None
    assert first.raw_sha256 in report and first.ingested_at in report
    page.screenshot(path=str(SCREENSHOTS / "4-report.png"), full_page=True)
