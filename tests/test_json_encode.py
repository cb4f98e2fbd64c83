"""The one JSON encoder of the commands, the stored scores and the screening API."""

from __future__ import annotations

import json

from adsentry.io.encode import dumps


def test_compact_utf8_json_with_orjson() -> None:
    assert dumps({"a": [1, 2.5, None], "b": "ø 💋"}) == '{"a":[1,2.5,null],"b":"ø 💋"}'.encode()


def test_what_orjson_refuses_comes_out_as_the_same_compact_json() -> None:
    # an integer over 64 bits: json writes it, in the same compact form
    assert dumps({"n": 2**70, "t": "ø"}) == f'{{"n":{2**70},"t":"ø"}}'.encode()
    # a lone surrogate cannot be UTF-8: it is escaped, and reads back as it was
    out = dumps({"t": "a\ud800b ø"})
    out.decode("utf-8")  # valid UTF-8
    assert json.loads(out) == {"t": "a\ud800b ø"}
