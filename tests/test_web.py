"""The screening API and the read-only JSON API (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from adsentry.config import Config
from adsentry.errors import AdsentryError
from adsentry.pipeline import analyze
from adsentry.store import Store, open_store
from adsentry.web import create_app, is_loopback

T = TypeVar("T")
KEY = "k-" + "x" * 30
AUTH = {"Authorization": f"Bearer {KEY}"}

# Three ads of one poster group: one phone, three working names, three cities, one week.
NETWORK_ADS = [
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
        "id": "t1",
        "source": "site",
        "title": "Candy - upscale companion",
        "body": (
            "Hello gentlemen, my name is Candy and I am an upscale companion visiting "
            "your city this week only. Classy, discreet and fun, I enjoy dinner dates "
            "and relaxing evenings. Call 702-555-0131 to book your appointment."
        ),
        "location": "Las Vegas, NV",
    },
    {
        "id": "t2",
        "source": "site",
        "title": "Roxy - upscale companion",
        "body": (
            "Hello gentlemen, my name is Roxy and I am an upscale companion visiting "
            "your city this week only. Classy, discreet and fun, I enjoy dinner dates "
            "and relaxing evenings. Call 775-555-0177 to book your appointment."
        ),
        "location": "Reno, NV",
    },
    {
        "id": "solo",
        "source": "site",
        "title": "Relaxing evening",
        "body": "Quiet and friendly, call 415-555-0199. Oakland only.",
        "location": "Oakland, CA",
        "posted_at": "2017-03-02T10:00:00Z",
    },
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web")
    src = folder / "ads.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in NETWORK_ADS))
    path = folder / "case.db"
    store = open_store(path)
    try:
        analyze([src], store, db_path=path)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    app = create_app(db, Config(api_keys=(KEY,)))
    with TestClient(app) as c:
        yield c


def screen(client: TestClient, ad: dict, headers: dict | None = AUTH):
    return client.post("/v1/screen", json=ad, headers=headers or {})


OBSCURED_YOUTH = {
    "id": "new-1",
    "title": "Sweet young girl",
    "body": "Call me six1nine 5five5 O142 tonight",
}


def test_obfuscated_phone_and_youth_wording_with_their_spans(client: TestClient) -> None:
    r = screen(client, OBSCURED_YOUTH)
    assert r.status_code == 200, r.text
    got = r.json()
    contribs = {c["code"]: c for c in got["contributions"]}
    assert contribs["obscured_contact"]["spans"] == [
        {"field": "body", "start": 8, "end": 28, "text": "six1nine 5five5 O142"}
    ]
    assert contribs["youth_language"]["spans"] == [
        {"field": "title", "start": 6, "end": 11, "text": "young"}
    ]
    assert contribs["obscured_contact"]["validated"] and contribs["youth_language"]["validated"]
    phone = [e for e in got["entities"] if e["kind"] == "phone"]
    assert phone[0]["value"] == "+16195550142" and phone[0]["obfuscated"] is True


def test_an_ad_sharing_a_phone_with_a_stored_network_reports_it(client: TestClient) -> None:
    got = screen(client, OBSCURED_YOUTH).json()
    net = got["network"]
    assert net is not None
    assert net["size"] == 3
    assert {"kind": "phone", "value": "+16195550142", "ads": 3} in net["evidence"]
    detail = client.get(f"/api/networks/{net['network_id']}").json()
    assert sorted(a["ad_id"] for a in detail["ads"]) == ["g1", "g2", "g3"]
    assert net["score"] == detail["assessment"]["score"]
    assert "network" in {c["code"] for c in got["contributions"]}


def test_an_ad_from_a_stored_template_joins_its_network_with_the_template_as_evidence(
    client: TestClient,
) -> None:
    body = (
        "Hello gentlemen, my name is Bella and I am an upscale companion visiting "
        "your city this week only. Classy, discreet and fun, I enjoy dinner dates "
        "and relaxing evenings. Call 480-555-0166 to book your appointment."
    )
    got = screen(client, {"id": "t3", "title": "Bella - upscale companion", "body": body}).json()
    net = got["network"]
    assert net is not None and net["size"] == 2
    templates = [e for e in net["evidence"] if e["kind"] == "template"]
    assert len(templates) == 1
    assert templates[0]["ad"]["ad_id"] in ("t1", "t2")
    assert 0.66 <= templates[0]["similarity"] < 1.0
    assert not [e for e in net["evidence"] if e["kind"] == "phone"]


def test_the_same_ad_screened_twice_gives_the_same_answer(client: TestClient) -> None:
    assert screen(client, OBSCURED_YOUTH).json() == screen(client, OBSCURED_YOUTH).json()


def test_an_ad_linking_to_nothing_has_no_network(client: TestClient) -> None:
    got = screen(client, {"title": "Hello", "body": "Nothing to see, call 212-555-0100"}).json()
    assert got["network"] is None
    assert got["stored"] is False


def test_screening_does_not_write_unless_asked(client: TestClient, db: Path) -> None:
    before = client.get("/api/stats").json()["ads"]
    screen(client, {"id": "tmp-1", "body": "Call 212-555-0177 for a quiet evening"})
    assert client.get("/api/stats").json()["ads"] == before
    r = screen(
        client, {"id": "tmp-2", "body": "Call 212-555-0177 for a quiet evening", "store": True}
    )
    assert r.json()["stored"] is True
    assert client.get("/api/stats").json()["ads"] == before + 1
    # the stored ad is found by the next screening, by its phone
    again = screen(client, {"id": "tmp-3", "body": "Text 212 555 0177"}).json()
    assert again["network"]["size"] == 1
    assert again["network"]["evidence"][0]["value"] == "+12125550177"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": KEY}, 401),
        ({"Authorization": f"Basic {KEY}"}, 401),
        (AUTH, 200),
    ],
)
def test_api_key(client: TestClient, headers: dict, status: int) -> None:
    r = client.post("/v1/screen", json={"body": "hello there friend"}, headers=headers)
    assert r.status_code == status
    if status == 401:
        assert "API key" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"title": "", "body": "  "}', "no_text: no non-blank title, body or text"),
        (b'{"body": 42}', "body: Input should be a valid string"),
        (b'{"body": "hi there", "title": ["a"]}', "title: Input should be a valid string"),
        (b'{"body": "hi there", "images": [1]}', "images.0: Input should be a valid string"),
        (b'{"body": "hi there", "store": "yes"}', "store: Input should be a valid boolean"),
        (b'{"body": "hi there", "id": 7}', "id: Input should be a valid string"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(client: TestClient, body: bytes, message: str) -> None:
    r = client.post(
        "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert message in r.json()["detail"]
    assert screen(client, {"body": "still serving, call 212-555-0100"}).status_code == 200


def test_a_body_over_1_mb_is_413_also_chunked(client: TestClient) -> None:
    big = json.dumps({"body": "x" * 2_000_000}).encode()
    r = client.post("/v1/screen", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413

    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 40 chunks of 64 KB, no Content-Length
            sent.append(1)
            yield b" " * 65536

    r = client.post(
        "/v1/screen", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert "over 1,000,000 bytes" in r.json()["detail"]
    assert screen(client, {"body": "still serving, call 212-555-0100"}).status_code == 200


def test_read_only_api_and_docs_need_no_key_on_loopback(client: TestClient) -> None:
    assert client.get("/api/stats").json()["ads"] >= 4
    top = client.get("/api/top?subject=networks&n=5").json()
    assert top and top[0]["size"] == 3
    assert client.get("/api/networks/n-unknown").status_code == 404
    schema = client.get("/openapi.json").json()
    assert "/v1/screen" in schema["paths"]
    page = client.get("/docs").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page and "cdn" not in page
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_public_server_needs_keys_everywhere(db: Path) -> None:
    with pytest.raises(AdsentryError, match="without authentication"):
        create_app(db, Config(), public=True)
    app = create_app(db, Config(api_keys=(KEY,)), public=True)
    with TestClient(app) as c:
        assert c.get("/api/stats").status_code == 401
        assert c.get("/docs").status_code == 401
        assert c.get("/api/stats", headers=AUTH).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_no_keys_configured_means_no_screening(db: Path) -> None:
    with TestClient(create_app(db, Config())) as c:
        assert c.post("/v1/screen", json={"body": "hello"}, headers=AUTH).status_code == 401


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_a_live_server_refuses_a_chunked_body_before_reading_it_all(db: Path) -> None:
    """Through a real socket (uvicorn): a chunked body with no Content-Length is cut
    off with 413 once it passes 1 MB; the client cannot send its 8 MB."""
    import socket
    import threading
    import time

    import uvicorn

    app = create_app(db, Config(api_keys=(KEY,)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall(
            b"POST /v1/screen HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {KEY}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        sent = 0
        try:
            for _ in range(128):  # 8 MB
                conn.sendall(chunk)
                sent += 65536
        except OSError:
            pass  # the server closed the connection: expected
        reply = conn.recv(4096)
        conn.close()
        assert reply.startswith(b"HTTP/1.1 413")
        assert b"over 1,000,000 bytes" in reply
        assert sent < 8 * 1024 * 1024  # it stopped reading (5.5 MB fit in socket buffers here)
        # and it keeps serving
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c2:
            c2.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c2.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_screening_in_a_batch_gives_each_ad_its_answer_alone(db: Path) -> None:
    from adsentry.io.readers import ad_from_record
    from adsentry.screen import Screener

    ads = [
        ad_from_record(r)
        for r in [
            OBSCURED_YOUTH,
            {"id": "b2", "body": "Nothing to see, call 212-555-0100"},
            {"id": "g1", "source": "site", "body": "I'm Mia again, call 619-555-0142"},
            {
                "id": "b4",
                "title": "Bella - upscale companion",
                "body": NETWORK_ADS[3]["body"].replace("Candy", "Bella"),
            },
        ]
    ]
    store = open_store(db, create=False)
    try:
        screener = Screener(store)
        alone = [screener.screen(a) for a in ads]
        together = screener.screen_many(ads)
    finally:
        store.close()
    assert together == alone
    # the stored g1 is the screened ad's own earlier version: not evidence against it
    g1 = together[2]["network"]
    assert g1 is not None and g1["size"] == 3
    assert {"kind": "phone", "value": "+16195550142", "ads": 2} in g1["evidence"]
    assert [e["kind"] for e in together[3]["network"]["evidence"]] == ["phone", "template"]


def test_lone_surrogates_are_repaired_not_a_500(client: TestClient) -> None:
    body = (
        b'{"id": "s1", "title": "x\\ud83d", "body": "\\ud800 call 212-555-0100", "foo": "\\udc80"}'
    )
    r = client.post(
        "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert [e["value"] for e in r.json()["entities"] if e["kind"] == "phone"] == ["+12125550100"]


def test_bodies_that_only_the_standard_json_reads_are_still_read(client: TestClient) -> None:
    # The body is read by orjson first; what it refuses and json reads is read by json:
    # UTF-16 with a byte order mark, NaN, an integer over 64 bits
    ad = {"id": "u16", "body": "call 212-555-0100", "rate": float("nan"), "n": 2**70}
    for body in (json.dumps(ad).encode("utf-16"), json.dumps(ad).encode()):
        r = client.post(
            "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["ad_id"] == "u16"
    r = client.post(
        "/v1/screen", content=b'{"id": "x",', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("body is not valid JSON: Expecting property name")


def test_integers_over_64_bits_are_read_exactly(client: TestClient) -> None:
    # orjson reads them as floats: the ad's content id (no "id" given) and its site
    # fields must come from the exact integer, as json reads it
    from adsentry.io.readers import ad_from_record

    for n in (2**64, -(2**63) - 1, 10**30):
        body = json.dumps({"body": "call 212-555-0100 tonight", "n": n}).encode()
        r = client.post(
            "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["ad_id"] == ad_from_record(json.loads(body)).ad_id


def test_a_deeply_nested_body_is_a_422_not_a_500(client: TestClient) -> None:
    for depth in (32, 900, 1000, 1020, 5000):  # the ad is level 1: 33 levels and more
        body = b'{"body": "call 212-555-0100", "x": ' + b"[" * depth + b"]" * depth + b"}"
        r = client.post(
            "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert r.status_code == 422, (depth, r.text)
        assert "nested" in r.json()["detail"] or "too deep" in r.json()["detail"]
    body = b'{"body": "call 212-555-0100", "x": ' + b"[" * 31 + b"]" * 31 + b"}"
    r = client.post(
        "/v1/screen", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text


def test_an_answer_orjson_refuses_is_sent_by_json(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # orjson refuses integers over 64 bits; the answer still goes out, through json
    async def big(ad: object, store: bool) -> dict[str, object]:
        return {"score": 2**70}

    monkeypatch.setattr(client.app.state.batcher, "screen", big)  # type: ignore[attr-defined]
    r = screen(client, {"id": "big", "body": "hello"})
    assert r.status_code == 200 and r.json() == {"score": 2**70}


def _layers_under_fast_path(client: TestClient) -> tuple[Any, Any]:
    """The app, and the app as it is under ScreenFastPath (the router and its layers)."""
    from adsentry.web.app import ScreenFastPath

    app: Any = client.app
    assert [m.cls for m in app.user_middleware].count(ScreenFastPath) == 1
    layer = app.middleware_stack  # built by the first request
    while not isinstance(layer, ScreenFastPath):
        layer = layer.app
    return app, layer.app


def _call_asgi(
    client: TestClient, target: Any, headers: list[tuple[bytes, bytes]], body: bytes | None
) -> tuple[int, dict[str, str], bytes]:
    """``POST /v1/screen`` straight to the ASGI callable ``target``, in the client's
    event loop: ``(status, headers, body)``. With ``body`` None, reading the request
    body fails the test."""
    app: Any = client.app

    async def run() -> tuple[int, dict[str, str], bytes]:
        pending = [] if body is None else [{"type": "http.request", "body": body}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if body is None:
                raise AssertionError("the body was read")
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/screen",
            "raw_path": b"/v1/screen",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "app": app,
        }
        await target(scope, receive, send)
        head = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
        return sent[0]["status"], head, b"".join(m.get("body", b"") for m in sent[1:])

    result: tuple[int, dict[str, str], bytes] = client.portal.call(run)  # type: ignore[union-attr]
    return result


def test_the_route_behind_the_fast_path_answers_as_it_does(client: TestClient) -> None:
    # adsentry serve answers POST /v1/screen in ScreenFastPath, before the router; the
    # FastAPI route (what /docs describes) must give the same status, body and headers
    _, behind = _layers_under_fast_path(client)
    json_type = {"Content-Type": "application/json"}
    cases = [
        (json.dumps(OBSCURED_YOUTH).encode(), {**AUTH, **json_type}),
        (json.dumps(NETWORK_ADS[0] | {"id": "other"}).encode(), {**AUTH, **json_type}),
        (b'{"body": "hello"}', {"Authorization": "Bearer wrong", **json_type}),
        (b"{not json", {**AUTH, **json_type}),
        (b'{"body": 42}', {**AUTH, **json_type}),
        (b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", AUTH),
    ]
    statuses = []
    for body, headers in cases:
        fast = client.post("/v1/screen", content=body, headers=headers)
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        status, routed_headers, routed = _call_asgi(client, behind, raw_headers, body)
        assert (fast.status_code, fast.content) == (status, routed)
        assert fast.headers["content-type"] == routed_headers["content-type"]
        assert fast.headers.get("www-authenticate") == routed_headers.get("www-authenticate")
        statuses.append(status)
    assert statuses == [200, 200, 401, 422, 422, 422]


def test_a_missing_or_wrong_key_is_refused_before_the_body_is_read(client: TestClient) -> None:
    # A client without the key gets its 401 at once, not after sending up to 1 MB (or
    # a 413 for a larger body): through the fast path and through the route alike.
    app, behind = _layers_under_fast_path(client)
    for target in (app, behind):
        for key in ([], [(b"authorization", b"Bearer wrong")]):
            status, head, _ = _call_asgi(
                client, target, [(b"content-length", b"500000"), *key], None
            )
            assert (status, head["www-authenticate"]) == (401, "Bearer")


def test_screening_processes_answer_as_one_process_does(db: Path, tmp_path: Path) -> None:
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from adsentry.web.processes import ForkedProcesses

    case = tmp_path / "case.db"
    shutil.copy(db, case)
    ads = [
        OBSCURED_YOUTH,
        {"id": "b2", "body": "Nothing to see, call 212-555-0100"},
        {"id": "g1", "source": "site", "body": "I'm Mia again, call 619-555-0142"},
        {"title": "Bella", "body": NETWORK_ADS[3]["body"].replace("Candy", "Bella")},
    ] * 3
    config = Config(api_keys=(KEY,))
    with TestClient(create_app(case, config)) as one:
        expected = [screen(one, ad).content for ad in ads]
    app = create_app(case, config, screen_workers=2)
    with TestClient(app) as pooled:
        pool = app.state.batcher.pool
        assert isinstance(pool, ForkedProcesses)
        with ThreadPoolExecutor(6) as clients:  # requests that wait together
            got = list(clients.map(lambda ad: screen(pooled, ad).content, ads))
        # the same bytes: encoded in a screening process, or in the server
        assert got == expected
        # a stored ad is written once, and its phone found by the next screening
        body = {"id": "s1", "body": "Call 212-555-0177 for a quiet evening", "store": True}
        assert screen(pooled, body).json()["stored"] is True
        again = screen(pooled, {"id": "s2", "body": "Text 212 555 0177"}).json()
        assert again["network"]["evidence"][0]["value"] == "+12125550177"
    assert pool.workers == 2 and pool.running() == 0  # stopped with the app
    with pytest.raises(AdsentryError, match="must be 1 or more"):
        create_app(case, config, screen_workers=0)


def _run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` in a thread of its own (an earlier test of the session may
    have left an event loop set in this one)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(main())).result()


def test_a_freed_screening_process_takes_its_share_of_what_waits(db: Path) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from adsentry.io.readers import ad_from_record
    from adsentry.web.app import ScreenBatcher

    batches: list[list[str]] = []  # sent to the processes
    here: list[list[str]] = []  # screened in the server (stores)

    def job(ads: list) -> list[dict]:
        batches.append([a.ad_id for a in ads])
        if any(a.ad_id == "bad" for a in ads):
            raise ValueError("broken ad")
        return [{"ad_id": a.ad_id, "stored": False} for a in ads]

    class Server:
        def screen_many(self, ads: list, store_ads: bool = False) -> list[dict]:
            here.append([a.ad_id for a in ads])
            return [{"ad_id": a.ad_id, "stored": store_ads} for a in ads]

    async def main() -> list[object]:
        with ThreadPoolExecutor(2) as pool:
            batcher = ScreenBatcher(Server(), max_batch=4, pool=pool, slots=2)  # type: ignore[arg-type]
            batcher.job = job
            runner = asyncio.create_task(batcher.run())
            ids = [str(i) for i in range(10)] + ["st", "bad", "big"]
            calls = [
                batcher.screen(
                    ad_from_record({"id": i, "body": "x" * (20_000 if i == "big" else 1)}),
                    i == "st",
                )
                for i in ids
            ]
            out = await asyncio.gather(*calls, return_exceptions=True)
            runner.cancel()
            return out

    out = _run_async(main)
    assert out[:11] == [{"ad_id": str(i), "stored": False} for i in range(10)] + [
        {"ad_id": "st", "stored": True}
    ]
    assert isinstance(out[11], ValueError)
    assert out[12] == {"ad_id": "big", "stored": False}
    # 12 waiting, 2 processes: each takes its half, capped at max_batch
    assert batches[:2] == [["0", "1", "2", "3"], ["4", "5", "6", "7"]]
    assert ["big"] in batches and all(len(b) <= 4 for b in batches)  # a large ad alone
    assert here == [["st"]]  # a store: in the server, the one writer
    assert sorted(i for b in batches for i in b) == sorted(
        [str(i) for i in range(10)] + ["bad", "big"]
    )


def test_a_batch_that_cannot_be_sent_gets_its_error_and_the_rest_go_on() -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from adsentry.io.readers import ad_from_record
    from adsentry.web.app import ScreenBatcher

    class Refusing(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            if any(a.ad_id == "unsendable" for a in args[0]):
                raise TypeError("cannot pickle the ad")
            return super().submit(fn, *args, **kwargs)

    def job(ads: list) -> list[dict]:
        return [{"ad_id": a.ad_id} for a in ads]

    async def main() -> list[object]:
        with Refusing(1) as pool:
            batcher = ScreenBatcher(None, max_batch=1, pool=pool, slots=1)  # type: ignore[arg-type]
            batcher.job = job
            runner = asyncio.create_task(batcher.run())
            out = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        batcher.screen(ad_from_record({"id": i, "body": "x"}), False)
                        for i in ("a", "unsendable", "b")
                    ),
                    return_exceptions=True,
                ),
                timeout=10,
            )
            runner.cancel()
            return out

    a, refused, b = _run_async(main)
    assert (a, b) == ({"ad_id": "a"}, {"ad_id": "b"})
    assert isinstance(refused, TypeError) and str(refused) == "cannot pickle the ad"


def test_a_request_cancelled_as_the_server_stops_is_answered_503() -> None:
    # uvicorn cancels the requests still running after its graceful timeout
    import asyncio

    from adsentry.web.app import screen_reply

    class Stuck:
        async def screen(self, ad: object, store: bool) -> dict:
            await asyncio.sleep(60)
            return {}

    async def main() -> tuple[int, bytes, list]:
        task = asyncio.ensure_future(screen_reply(b'{"id": "a", "body": "x"}', Stuck()))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        task.cancel()
        return await task

    status, body, headers = _run_async(main)
    assert status == 503
    assert json.loads(body) == {"detail": "the server is stopping: send the request again"}
    assert headers == [(b"retry-after", b"5")]


def test_requests_still_waiting_when_the_server_stops_are_told_so() -> None:
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from adsentry.io.readers import ad_from_record
    from adsentry.web.app import ScreenBatcher, ScreeningUnavailable

    release = threading.Event()

    def job(ads: list) -> list[dict]:
        release.wait(5)  # the one process stays busy until the server has stopped
        return [{"ad_id": a.ad_id} for a in ads]

    async def main() -> list[object]:
        with ThreadPoolExecutor(1) as pool:
            batcher = ScreenBatcher(None, max_batch=1, pool=pool, slots=1)  # type: ignore[arg-type]
            batcher.job = job
            runner = asyncio.create_task(batcher.run())
            calls = [
                asyncio.ensure_future(batcher.screen(ad_from_record({"id": i, "body": "x"}), False))
                for i in "abc"
            ]
            await asyncio.sleep(0.1)  # "a" runs; "b" is taken, waiting for the process
            runner.cancel()
            batcher.stop()  # as the server's lifespan does
            release.set()
            out = await asyncio.gather(*calls, return_exceptions=True)
            late = await asyncio.gather(
                batcher.screen(ad_from_record({"id": "d", "body": "x"}), False),
                return_exceptions=True,
            )
            return [*out, *late]

    out = _run_async(main)
    assert out[0] == {"ad_id": "a"}  # sent out before the stop: answered
    assert [type(o) for o in out[1:]] == [ScreeningUnavailable] * 3
    assert str(out[1]) == "the server is stopping"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_screening_process_ends_within_seconds_of_its_parent(tmp_path: Path) -> None:
    import multiprocessing
    import os
    import time

    from adsentry.orphans import end_with_parent

    record = tmp_path / "pid"

    def parent() -> None:
        if os.fork() == 0:  # the screening process: watches its parent
            record.write_text(str(os.getpid()))
            end_with_parent(os.getppid())
            time.sleep(30)  # not reached: the watching thread ends the process
            os._exit(1)
        time.sleep(0.3)
        os._exit(0)  # the parent dies without stopping it (killed, say)

    p = multiprocessing.get_context("fork").Process(target=parent)
    p.start()
    p.join()
    deadline = time.time() + 10
    while not record.exists() and time.time() < deadline:
        time.sleep(0.05)
    stat = Path(f"/proc/{record.read_text()}/stat")
    while time.time() < deadline:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] in "ZX":
                break  # exited (a zombie until whoever adopted it reaps it)
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the orphaned process kept running")


def _die_on_bad(ads: list) -> list[dict]:
    import os

    if any(a.ad_id == "bad" for a in ads):
        os._exit(3)  # the process dies, as one killed for memory would
    return [{"ad_id": a.ad_id, "by": "pool"} for a in ads]


def _no_setup() -> None:
    pass


@pytest.mark.parametrize("kind", ["forked", "executor"])
def test_when_a_screening_process_dies_its_batches_get_503_and_later_ads_the_server(
    caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    # the server's own processes (ForkedProcesses), and a ProcessPoolExecutor
    import asyncio
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from adsentry.io.readers import ad_from_record
    from adsentry.web.app import ScreenBatcher, ScreeningUnavailable
    from adsentry.web.processes import ForkedProcesses

    class InProcess:
        def screen_many(self, ads: list) -> list[dict]:
            return [{"ad_id": a.ad_id, "by": "server"} for a in ads]

    async def main() -> list[object]:
        if kind == "forked":
            pool: Any = await ForkedProcesses.start(2, _no_setup)
        else:
            pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        try:
            batcher = ScreenBatcher(InProcess(), max_batch=2, pool=pool, slots=2)
            batcher.job = _die_on_bad
            runner = asyncio.create_task(batcher.run())
            first = await batcher.screen(ad_from_record({"id": "ok", "body": "x"}), False)
            ids = ["a", "bad", "b", "c", "d"]
            rest = await asyncio.gather(
                *(batcher.screen(ad_from_record({"id": i, "body": "x"}), False) for i in ids),
                return_exceptions=True,
            )
            later = await batcher.screen(ad_from_record({"id": "e", "body": "x"}), False)
            runner.cancel()
            return [first, *rest, later]
        finally:
            pool.shutdown()

    with caplog.at_level("ERROR", logger="adsentry.web.app"):
        out = _run_async(main)
    assert out[0] == {"ad_id": "ok", "by": "pool"}
    # "a" and "bad" were one batch: the ad that killed the process is not tried again
    assert [type(o) for o in out[1:3]] == [ScreeningUnavailable] * 2
    assert str(out[1]) == "a screening process died"
    for o, i in zip(out[3:6], "bcd", strict=True):  # out, answered, or queued for the server
        assert isinstance(o, ScreeningUnavailable) or o["ad_id"] == i
    assert out[6] == {"ad_id": "e", "by": "server"}
    assert "a screening process died" in caplog.text


def test_screening_processes_die_of_sigterm_whatever_the_server_handles(db: Path) -> None:
    # uvicorn catches SIGTERM in the server; a screening process forked from it must
    # not, or a pool stopping a broken process waits on it forever
    import signal

    from adsentry.screen import Screener, screening_pool

    store = open_store(db, create=False)
    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        pool = screening_pool(Screener(store), 1)
        assert pool is not None
        with pool:
            got = pool.submit(signal.getsignal, signal.SIGTERM).result()
            assert got == signal.SIG_DFL
            assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)
        store.close()


@pytest.fixture
def case_store(db: Path, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    """A copy of the module's case database, open: for tests that write to it."""
    import shutil

    case = tmp_path / "case.db"
    shutil.copy(db, case)
    store = open_store(case, create=False)
    try:
        yield store, case
    finally:
        store.close()


def test_a_screener_finds_ads_another_process_stored_since_it_started(
    case_store: tuple[Store, Path],
) -> None:
    # two screeners on one database stand for two screening processes
    from adsentry.io.readers import ad_from_record
    from adsentry.screen import Screener

    store, _ = case_store
    text = (
        "Sweet and classy, I offer the girlfriend experience with dinner dates and "
        "long relaxing evenings by the sea; text me for my rates and a photo."
    )
    other = "Sporty and fun, weekend road trips and hikes; message me for details."
    one, two = Screener(store), Screener(store)
    probe = ad_from_record({"id": "probe", "body": text})
    assert two.screen(probe)["network"] is None
    assert one.screen(ad_from_record({"id": "st-1", "body": text}), store_ad=True)["stored"]
    net = two.screen(probe)["network"]  # by template: the text, no identifier
    assert net is not None and net["evidence"][0]["kind"] == "template"
    assert net["evidence"][0]["ad"] == {"source": "screen", "ad_id": "st-1"}
    # a new version replaces the text: the old one no longer links, in either
    new = ad_from_record({"id": "st-1", "body": other})
    assert one.screen(new, store_ad=True)["stored"]
    assert two.screen(probe)["network"] is None
    assert one.screen(probe)["network"] is None
    assert two.catch_up() == 0  # nothing stored since: one query, nothing read


def test_an_ad_screened_under_a_stored_key_never_links_to_its_own_stored_version(
    case_store: tuple[Store, Path],
) -> None:
    # g1, g2 and g3 carry 619-555-0142. Screened again under its own key, g1 links
    # to the other two only; an ad that another screener stored after this one was
    # built, screened again under its key, links to nothing.
    from adsentry.io.readers import ad_from_record
    from adsentry.screen import Screener

    store, _ = case_store
    screener, other = Screener(store), Screener(store)

    def phone_ads(answer: dict[str, Any]) -> int:
        (item,) = [e for e in answer["network"]["evidence"] if e["kind"] == "phone"]
        assert item["value"] == "+16195550142"
        return int(item["ads"])

    again = ad_from_record(NETWORK_ADS[0])
    assert (again.source, again.ad_id) == ("site", "g1")
    assert phone_ads(screener.screen(again)) == 2
    stranger = ad_from_record({**NETWORK_ADS[0], "id": "g9"})
    assert phone_ads(screener.screen(stranger)) == 3
    # 212-555-0199 is carried by no stored ad until another screener stores st-9
    later = ad_from_record({"id": "st-9", "body": "New here, call 212 555 0199 tonight"})
    assert other.screen(later, store_ad=True)["stored"]
    assert screener.screen(later)["network"] is None  # only itself carries it
    net = screener.screen(ad_from_record({"id": "st-8", "body": later.body}))["network"]
    assert net["size"] == 1 and net["evidence"][0]["value"] == "+12125550199"


def test_a_replaced_version_stops_counting_in_its_network_for_a_running_screener(
    case_store: tuple[Store, Path],
) -> None:
    # g1, g2 and g3 are one network of 3. A new version of g2 without the phone is
    # stored (by another screener, or by this one): until the next link run the stored
    # network has two current members, and a running screener must say so, as one
    # built now does.
    from adsentry.io.readers import ad_from_record
    from adsentry.screen import Screener

    store, _ = case_store
    running, other = Screener(store), Screener(store)
    probe = ad_from_record({"id": "probe", "body": "Call me six1nine 5five5 O142 tonight"})
    assert running.screen(probe)["network"]["size"] == 3
    g2 = ad_from_record({**NETWORK_ADS[1], "body": "Hey guys, my name is Lola. Outcall only."})
    assert other.screen(g2, store_ad=True)["stored"]
    fresh = Screener(store).screen(probe)["network"]
    assert fresh["size"] == 2
    assert running.screen(probe)["network"] == fresh
    g3 = ad_from_record({**NETWORK_ADS[2], "body": "Ask for Kim, Fresno incall, no rush."})
    assert running.screen(g3, store_ad=True)["stored"]  # this time by the running one
    assert running.screen(probe)["network"] == Screener(store).screen(probe)["network"]
    assert running.screen(probe)["network"]["size"] == 1


def test_a_screener_follows_the_networks_of_a_later_analyze_or_relink(
    case_store: tuple[Store, Path], tmp_path: Path
) -> None:
    # A running server answers with the networks stored now, not those of its start:
    # `adsentry analyze` of a new file (which links and rescores) or `adsentry relink`
    # while it runs.
    from adsentry.io.readers import ad_from_record
    from adsentry.link.networks import network_id_of, relink
    from adsentry.screen import Screener

    store, case = case_store
    probe = ad_from_record({"id": "probe", "body": "Call me six1nine 5five5 O142 tonight"})
    screener = Screener(store)
    before = screener.screen(probe)["network"]
    assert before["network_id"] == network_id_of("site", "g1")
    assert before["size"] == 3
    # a new ad of the same poster, whose key ("a0") is now the smallest of the group:
    # the network's id becomes the one of a0, its size 4, its score a new one
    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps(
            {
                "id": "a0",
                "source": "site",
                "title": "Ruby",
                "body": "I'm Ruby, 619 555 0142, Bakersfield incall.",
                "location": "Bakersfield, CA",
            }
        )
        + "\n"
    )
    analyze([more], store, db_path=case)
    stored = {nid for _s, i, _p, nid, _t in store.link_assignments() if i == "a0"}
    assert stored == {network_id_of("site", "a0")}
    after = screener.screen(probe)["network"]
    assert after["network_id"] == network_id_of("site", "a0")
    assert after["size"] == 4
    scores = dict((n, s) for n, s, _d, _c in store.top_assessments("network", 100))
    assert after["score"] == scores[after["network_id"]]
    # a relink that stores no ad still changes what the screener reads
    version = store.data_version()
    relink(store)
    assert store.data_version() != version
    assert screener.screen(probe)["network"] == after


def test_the_server_keeps_serving_while_it_screens_a_large_ad_itself() -> None:
    import asyncio
    import itertools
    import time

    from adsentry.io.readers import ad_from_record
    from adsentry.web.app import ScreenBatcher, ScreeningUnavailable

    large = "x" * 20_000  # over LARGE_AD: screened in a thread

    class Slow:
        def screen_many(self, ads: list) -> list[dict]:
            time.sleep(1.0)  # a large ad takes long
            return [{"ad_id": a.ad_id} for a in ads]

    async def main() -> tuple[float, object, list[object]]:
        batcher = ScreenBatcher(Slow())  # type: ignore[arg-type]  # no pool: in this process
        runner = asyncio.create_task(batcher.run())
        ticks: list[float] = []

        async def other_requests() -> None:  # the event loop's other work
            for _ in range(40):
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.02)

        slow = batcher.screen(ad_from_record({"id": "a", "body": large}), False)
        answer, _ = await asyncio.gather(slow, other_requests())
        longest_stall = max(b - a for a, b in itertools.pairwise(ticks))
        # a stop while a batch runs answers it and what waits
        again = [
            asyncio.ensure_future(batcher.screen(ad_from_record({"id": i, "body": large}), False))
            for i in "bc"
        ]
        await asyncio.sleep(0.05)
        runner.cancel()
        batcher.stop()
        return longest_stall, answer, await asyncio.gather(*again, return_exceptions=True)

    longest_stall, answer, stopped = _run_async(main)
    assert answer == {"ad_id": "a"}
    assert longest_stall < 0.5  # the loop was never held for the second the ad took
    assert [type(o) for o in stopped] == [ScreeningUnavailable, ScreeningUnavailable]
