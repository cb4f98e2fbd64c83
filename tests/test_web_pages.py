"""The investigator's pages and their JSON twins (FastAPI TestClient), over a small
hand-made case database: three ads of one poster (one phone written three ways),
one ad with HTML and script in its text, one lone ad."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adsentry.config import Config
from adsentry.link.networks import network_id_of
from adsentry.pipeline import analyze
from adsentry.store import open_store
from adsentry.web import create_app
from adsentry.web.highlight import Annotation, highlight

KEY = "k-" + "p" * 30

ADS = [
    {
        "id": "g1",
        "source": "site",
        "title": "Mia - new pics",
        "body": "Hi gentlemen, I'm Mia. Call 619-555-0142 for a sweet time in San Diego.",
        "location": "San Diego, CA",
        "posted_at": "2017-03-01T10:00:00Z",
    },
    {
        "id": "g2",
        "source": "site",
        "title": "Lola in town",
        "body": "Hey guys, my name is Lola, text (619) 555-0142 now. Los Angeles outcall.",
        "location": "Los Angeles, CA",
        "posted_at": "2017-03-03T10:00:00Z",
    },
    {
        "id": "g3",
        "source": "site",
        "title": "Kim",
        "body": "Ask for Kim at 619.555.0142, Fresno incall, no rush.",
        "location": "Fresno, CA",
        "posted_at": "2017-03-06T10:00:00Z",
    },
    {
        "id": "x1",
        "source": "other",
        "title": "<script>alert('t')</script> Candy",
        "body": 'Call <b>415-555-0199</b> <img src=x onerror="alert(1)"> Oakland',
        "location": "Oakland, CA",
        "posted_at": "2017-03-02T10:00:00Z",
    },
    {
        "id": "solo",
        "source": "site",
        "title": "Relaxing evening",
        "body": "Quiet and friendly, email sunny@example.com. Sacramento only.",
        "location": "Sacramento, CA",
        "posted_at": "2017-02-20T10:00:00Z",
    },
]
NETWORK = network_id_of("site", "g1")  # the smallest (source, ad_id) of the group


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    src = folder / "ads.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ADS))
    path = folder / "case.db"
    store = open_store(path)
    try:
        analyze([src], store, db_path=path)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, Config())) as c:
        yield c


# -- home ------------------------------------------------------------------------


def test_home_page_shows_figures_top_networks_recent_ads_and_quarantine(
    client: TestClient,
) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text
    assert re.search(r'id="fig-ads">5<', r.text)
    assert re.search(r'id="fig-networks">1<', r.text)
    assert f'href="/networks/{NETWORK}"' in r.text
    assert "Nothing was quarantined" in r.text
    # recent ads newest first: g3 (Mar 6) before g2 (Mar 3)
    assert r.text.index("/ads/site/g3") < r.text.index("/ads/site/g2")


def test_api_home_mirrors_the_page(client: TestClient) -> None:
    got = client.get("/api").json()
    assert got["figures"]["ads"] == 5
    assert got["figures"]["networks"] == 1
    assert got["figures"]["ads_in_networks"] == 3
    assert [t["network_id"] for t in got["top_networks"]] == [NETWORK]
    assert got["top_networks"][0]["size"] == 3
    assert [a["ad_id"] for a in got["recent_ads"]] == ["g3", "g2", "x1", "g1", "solo"]


# -- search ----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["619-555-0142", "(619) 555 0142", "+1 619 555 0142"])
def test_a_phone_in_any_written_form_finds_its_ads(client: TestClient, written: str) -> None:
    got = client.get("/api/search", params={"q": written}).json()
    assert got["identifier"] == {
        "kind": "phone",
        "value": "+16195550142",
        "url": "/identifiers/phone/%2B16195550142",
    }
    assert got["total"] == 3
    assert sorted(a["ad_id"] for a in got["results"]) == ["g1", "g2", "g3"]
    page = client.get("/search", params={"q": written})
    assert page.status_code == 200 and "/ads/site/g2" in page.text


def test_email_query_is_an_identifier_search(client: TestClient) -> None:
    got = client.get("/api/search", params={"q": "Sunny@Example.com"}).json()
    assert got["identifier"]["value"] == "sunny@example.com"
    assert [a["ad_id"] for a in got["results"]] == ["solo"]


def test_full_text_search_with_facets_sort_and_paging(client: TestClient) -> None:
    got = client.get("/api/search", params={"q": "call OR text", "sort": "date"}).json()
    assert [a["ad_id"] for a in got["results"]] == ["g2", "x1", "g1"]
    assert got["total"] == 3 and got["pages"] == 1
    by_source = client.get("/api/search", params={"q": "call OR text", "source": "other"}).json()
    assert [a["ad_id"] for a in by_source["results"]] == ["x1"]
    dated = client.get("/api/search", params={"from": "2017-03-02", "to": "2017-03-03"}).json()
    assert sorted(a["ad_id"] for a in dated["results"]) == ["g2", "x1"]
    city = client.get("/api/search", params={"city": "Fresno"}).json()
    assert [a["ad_id"] for a in city["results"]] == ["g3"]
    assert client.get("/api/search", params={"page": 2}).json()["results"] == []
    scored = client.get("/api/search", params={"sort": "score"}).json()["results"]
    scores = [a["score"] if a["score"] is not None else -1 for a in scored]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ['"unclosed', "AND OR", "*", "NEAR(", "title:"])
def test_unparsable_queries_get_a_clear_message_not_a_500(client: TestClient, query: str) -> None:
    r = client.get("/search", params={"q": query})
    assert r.status_code == 200
    assert 'id="search-message"' in r.text
    assert "could not read this query" in r.text
    got = client.get("/api/search", params={"q": query}).json()
    assert got["message"] and "could not read this query" in got["message"]


def test_a_query_that_matches_nothing_says_so(client: TestClient) -> None:
    got = client.get("/api/search", params={"q": "zebra"}).json()
    assert got["total"] == 0 and got["message"].startswith("No ads match")


def test_a_very_long_query_is_refused_with_a_message(client: TestClient) -> None:
    r = client.get("/search", params={"q": "a" * 5000})
    assert r.status_code == 400
    assert "characters long" in r.text
    assert client.get("/api/search", params={"q": "a" * 5000}).status_code == 400


def test_bad_facet_values_are_refused_with_a_message(client: TestClient) -> None:
    r = client.get("/search", params={"from": "yesterday"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.text
    assert client.get("/search", params={"min_score": "lots"}).status_code == 400


def test_htmx_search_gets_only_the_results(client: TestClient) -> None:
    r = client.get("/search", params={"q": "Kim"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and "/ads/site/g3" in r.text


# -- ad --------------------------------------------------------------------------


def test_ad_page_highlights_entities_and_indicators_around_the_original_text(
    client: TestClient,
) -> None:
    r = client.get("/ads/site/g1")
    assert r.status_code == 200
    assert '<mark class="phone" title="phone (extractor: phone)">619-555-0142</mark>' in r.text
    assert '<mark class="name" title="name (extractor: name)">Mia</mark>' in r.text
    assert f'href="/networks/{NETWORK}"' in r.text
    assert 'class="network-size">3<' in r.text
    g2 = client.get("/ads/site/g2").text
    assert '<mark class="phone" title="phone (extractor: phone)">(619) 555-0142</mark>' in g2


def test_ad_page_renders_html_and_script_in_ad_text_inert(client: TestClient) -> None:
    r = client.get("/ads/other/x1")
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "<b>415" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in r.text
    assert '<mark class="phone" title="phone (extractor: phone)">415-555-0199</mark>' in r.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in r.text


def test_api_ad(client: TestClient) -> None:
    got = client.get("/api/ads/site/g1").json()
    assert got["ad_id"] == "g1" and got["network"]["size"] == 3
    phone = [e for e in got["entities"] if e["kind"] == "phone"]
    assert phone == [
        {
            "kind": "phone",
            "value": "+16195550142",
            "field": "body",
            "start": 28,
            "end": 40,
            "text": "619-555-0142",
            "obfuscated": False,
            "extractor": "phone",
            "url": "/identifiers/phone/%2B16195550142",
            "shown": "+16195550142",
        }
    ]
    assert len(got["raw_sha256"]) == 64


@pytest.mark.parametrize(
    "path",
    ["/ads/site/nope", "/ads/nope/g1", "/ads/site", "/ads/site/%00", "/ads/site/" + "x" * 600],
)
def test_unknown_or_malformed_ads_are_404_pages(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert 'class="error-message"' in r.text
    api = client.get("/api" + path)
    assert api.status_code == 404 and "detail" in api.json()


# -- highlight rules ---------------------------------------------------------------


def test_overlapping_spans_nest_merge_or_split() -> None:
    text = "call 619 555 0142 now"
    same = highlight(
        text,
        [
            Annotation(5, 17, ("phone",), "phone"),
            Annotation(5, 17, ("indicator", "validated"), "obscured"),
        ],
    )
    assert str(same) == (
        'call <mark class="phone indicator validated" title="phone; obscured">'
        "619 555 0142</mark> now"
    )
    crossing = highlight(text, [Annotation(0, 8, ("a",), "A"), Annotation(5, 12, ("b",), "B")])
    assert str(crossing) == (
        '<mark class="a" title="A">call <mark class="b" title="B">619</mark></mark>'
        '<mark class="b" title="B" data-continued="true"> 555</mark> 0142 now'
    )
    bad = highlight("<b>", [Annotation(0, 9, ("x",), "X"), Annotation(0, 1, ("y",), "Y", "z")])
    assert str(bad) == "&lt;b&gt;"


# -- identifier --------------------------------------------------------------------


def test_identifier_page_lists_ads_names_cities_timeline_and_generic(client: TestClient) -> None:
    r = client.get("/identifiers/phone/+16195550142")
    assert r.status_code == 200
    assert "Carried by <strong>3</strong>" in r.text
    assert "Not generic" in r.text
    assert "<svg" in r.text and 'role="img"' in r.text
    assert all(f"/ads/site/{i}" in r.text for i in ("g1", "g2", "g3"))
    got = client.get("/api/identifiers/phone/+16195550142").json()
    assert got["ads_total"] == 3
    assert {n["value"] for n in got["names"]} >= {"Mia", "Lola", "Kim"}
    assert [t["day"] for t in got["timeline"]] == ["2017-03-01", "2017-03-03", "2017-03-06"]
    assert got["generic"] is None
    assert got["networks"][0]["network_id"] == NETWORK


@pytest.mark.parametrize(
    "path",
    [
        "/identifiers/phone/+10000000001",
        "/identifiers/age/23",
        "/identifiers/phone",
        "/identifiers/email/" + "a" * 600,
    ],
)
def test_unknown_identifiers_are_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and 'class="error-message"' in r.text
    assert client.get("/api" + path).status_code == 404


# -- network -----------------------------------------------------------------------


def test_network_page_shows_size_graph_evidence_templates_and_exports(
    client: TestClient,
) -> None:
    r = client.get(f"/networks/{NETWORK}")
    assert r.status_code == 200
    assert 'id="network-size" data-size="3">3 ads<' in r.text
    assert "/static/cytoscape/cytoscape.min.js" in r.text
    assert 'id="graph-data"' in r.text
    assert "writes the phone +16195550142 as “(619) 555-0142”" in r.text
    for export in ("ads.csv", "links.csv", "export.json", "report"):
        assert f'href="/networks/{NETWORK}/{export}"' in r.text
    assert "graph-cap" not in r.text  # three ads: nothing capped
    graph = client.get(f"/api/networks/{NETWORK}/graph").json()
    kinds = sorted(n["data"]["kind"] for n in graph["elements"]["nodes"])
    assert kinds == ["ad", "ad", "ad", "phone"]
    assert len(graph["elements"]["edges"]) == 3
    assert graph["capped"] is False


def test_graph_caps_the_ads_it_draws() -> None:
    from adsentry.web.views import network_graph

    ads = [
        {"source": "s", "ad_id": str(i), "posted_at": None, "url": "/x", "location": ""}
        for i in range(5)
    ]
    detail = {"ads": ads, "identifiers": [], "templates": []}
    g = network_graph(detail, max_ads=2)
    assert g["capped"] is True and g["ads_drawn"] == 2 and g["ads_total"] == 5


def test_network_exports(client: TestClient, db: Path) -> None:
    r = client.get(f"/networks/{NETWORK}/ads.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "source", "ad_id", "version", "posted_at", "location", "title", "url", "score",
        "template_id", "raw_sha256", "ingested_at",
    ]  # fmt: skip
    assert sorted(row[1] for row in rows[1:]) == ["g1", "g2", "g3"]
    links = list(csv.reader(io.StringIO(client.get(f"/networks/{NETWORK}/links.csv").text)))
    assert links[0] == ["source", "ad_id", "link", "value", "text", "obfuscated", "similarity"]
    assert {(row[1], row[4]) for row in links[1:] if row[2] == "phone"} == {
        ("g1", "619-555-0142"),
        ("g2", "(619) 555-0142"),
        ("g3", "619.555.0142"),
    }
    got = client.get(f"/networks/{NETWORK}/export.json").json()
    assert set(got) == {"network_id", "summary", "assessment", "templates", "ads", "links"}
    assert len(got["ads"]) == 3 and len(got["links"]) >= 3
    store = open_store(db, create=False)
    try:
        sha = store.ad_by_key("site", "g2").raw_sha256  # type: ignore[union-attr]
    finally:
        store.close()
    report = client.get(f"/networks/{NETWORK}/report")
    assert report.status_code == 200 and sha in report.text
    assert "Ingested" in report.text


@pytest.mark.parametrize(
    "path", ["/networks/n-0000000000000000", "/networks/nope", "/networks/nope/ads.csv"]
)
def test_unknown_networks_are_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and 'class="error-message"' in r.text


def test_api_network_404(client: TestClient) -> None:
    assert client.get("/api/networks/n-0000000000000000").status_code == 404
    assert client.get("/api/networks/nope/graph").status_code == 404


# -- everything --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=Mia",
        "/ads/site/g1",
        "/identifiers/phone/+16195550142",
        f"/networks/{NETWORK}",
    ],
)
def test_pages_have_lang_headings_labels_and_no_outside_urls(client: TestClient, path: str) -> None:
    text = client.get(path).text
    assert '<html lang="en">' in text and "<h1" in text
    assert re.findall(r'(?:src|href)="(https?:)?//', text) == []
    for input_id in re.findall(r'<input id="([^"]+)"', text):
        assert f'<label for="{input_id}">' in text


def test_public_mode_requires_the_key_on_pages(db: Path) -> None:
    with TestClient(create_app(db, Config(api_keys=(KEY,)), public=True)) as c:
        assert c.get("/").status_code == 401
        assert c.get(f"/networks/{NETWORK}").status_code == 401
        assert c.get("/api/search?q=Mia").status_code == 401
        auth = {"Authorization": f"Bearer {KEY}"}
        assert c.get("/", headers=auth).status_code == 200
        assert c.get(f"/networks/{NETWORK}", headers=auth).status_code == 200


def test_vendored_scripts_are_served(client: TestClient) -> None:
    assert client.get("/static/htmx/htmx.min.js").status_code == 200
    assert client.get("/static/cytoscape/cytoscape.min.js").status_code == 200
    assert client.get("/static/network.js").status_code == 200


def test_shown_value_of_a_price() -> None:
    from adsentry.web.views import shown_value

    assert (
        shown_value("price", {"amount": 150, "currency": "USD", "minutes": 30})
        == "150 USD / 30 min"
    )
    assert shown_value("price", {"amount": 80.5, "currency": "", "minutes": None}) == "80.5"
    assert shown_value("age", 21) == "21"


def test_page_cache_is_bounded_and_follows_the_data() -> None:
    from adsentry.web.views import PageCache

    class FakeStore:
        version = (1, "1")

        def data_version(self):  # type: ignore[no-untyped-def]
            return self.version

    store = FakeStore()
    cache = PageCache(max_entries=2)
    calls: list[str] = []

    def compute(name: str):  # type: ignore[no-untyped-def]
        return lambda: calls.append(name) or name.upper()

    assert cache.get(store, "a", compute("a")) == "A"  # type: ignore[arg-type]
    assert cache.get(store, "a", compute("a")) == "A"  # type: ignore[arg-type]
    cache.get(store, "b", compute("b"))  # type: ignore[arg-type]
    cache.get(store, "c", compute("c"))  # type: ignore[arg-type]  # evicts a
    cache.get(store, "a", compute("a"))  # type: ignore[arg-type]
    assert calls == ["a", "b", "c", "a"]
    store.version = (2, "2")  # more ads stored: everything is recomputed
    cache.get(store, "a", compute("a"))  # type: ignore[arg-type]
    assert calls == ["a", "b", "c", "a", "a"]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "100001"])
def test_a_bad_page_number_is_a_clear_message_on_the_page(client: TestClient, page: str) -> None:
    r = client.get(f"/search?q=mia&page={page}")
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"]
    assert "The page must be a whole number from 1 to 100,000." in r.text
