"""The data model's records cross process boundaries (the analyze and screening
pools) by pickle: every field must survive the trip."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from adsentry.model import Ad, Entity, Indicator, Span

SPAN = Span("body", 5, 22, "six1nine 555 0100")
RECORDS = [
    Ad(
        ad_id="a1",
        source="site",
        title="t",
        body="b",
        url="http://x.example/1",
        location="San Diego",
        posted_at=datetime(2017, 3, 1, 10, tzinfo=UTC),
        images=["i1.jpg"],
        site_fields={"site_age": 22, "nested": {"k": [1, 2]}},
        raw_sha256="ab" * 32,
        field_names={"body": "text"},
    ),
    SPAN,
    Entity("price", {"amount": 200, "currency": "USD", "minutes": 60}, "title", 1, 4, "$200"),
    Entity("phone", "+16195550100", "body", 5, 22, "six1nine 555 0100", True, "phone"),
    Indicator("obscured_contact", True, "JRSA/NIJ", (SPAN, SPAN), "en"),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_field_survives_pickle(record: object) -> None:
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(record, protocol=protocol))
        assert type(back) is type(record)
        assert back == record
        for f in dataclasses.fields(record):  # type: ignore[arg-type]
            assert getattr(back, f.name) == getattr(record, f.name), f.name
