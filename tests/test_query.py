"""What a search box query means: one identifier written any way, or full text."""

from __future__ import annotations

import pytest

from adsentry.query import identifier_query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("(619) 555-0142", ("phone", "+16195550142")),
        ("call six1nine 5five5 O142", ("phone", "+16195550142")),
        ("mia@example.com", ("email", "mia@example.com")),
        ("MIA@Example.com", ("email", "mia@example.com")),
        ("user899 at example dot net", ("email", "user899@example.net")),
        ("instagram:mia.x", ("handle", "instagram:mia.x")),
        ("IG: ashley_demo918", ("handle", "instagram:ashley_demo918")),
        ("snapchat - mia.x", ("handle", "snapchat:mia.x")),
        ("latina", None),
        ("latina AND (oc OR irvine)", None),
        ("call 619 555 0142 or 415 555 0199", None),  # two numbers: a text query
        ("", None),
    ],
)
def test_identifier_query(query: str, expected: tuple[str, str] | None) -> None:
    assert identifier_query(query, "US") == expected
