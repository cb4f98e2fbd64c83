"""Score the extractors against a gold file (the formats of shared/data/gold).

Each gold record is read with the same reader as any input (``text`` maps to ``body``)
and the extractor of the kind is run over it. Per record, the predicted values and the
gold values are compared as multisets of keys:

- phone: E.164 values, in text fields (title, body: gold ``phones_text``) and in the
  ``url`` field (gold ``phones_url``), scored as two rows;
- age: integers (gold ``ages``); the share of records whose set equals the gold set is
  reported too;
- price: ``(amount, minutes)`` pairs; the gold's free-form unit strings are mapped to
  minutes with :data:`adsentry.extract.price.UNIT_MINUTES`; a gold unit ``""`` (the
  README: "the gold gives an amount with no unit") is matched on the amount alone;
- handle: ``platform:handle`` lower-cased (gold ``handles``);
- name, location: the text as written, case ignored (gold ``names``, ``locations``).

Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adsentry.errors import AdsentryError
from adsentry.model import Ad, Entity

KINDS = ("phone", "age", "price", "handle", "name", "location")

#: The field of a gold record that holds the labels of each kind.
GOLD_FIELDS = {
    "phone": "phones_text",
    "age": "ages",
    "price": "prices",
    "handle": "handles",
    "name": "names",
    "location": "locations",
}

#: Minutes of a gold price whose unit is ``""``: the gold README says the annotation
#: then gives an amount with no unit, so the duration is not scored for it.
UNANNOTATED = "unannotated"

Key = Any


@dataclass(slots=True)
class Case:
    """One miss or false hit: the record, the key, and the text around it."""

    record: str
    key: Key
    context: str


@dataclass(slots=True)
class Score:
    """Counts and rates for one kind (and scope) over a gold file."""

    name: str
    records: int = 0
    exact: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[Case] = field(default_factory=list)
    false_hits: list[Case] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def exact_share(self) -> float:
        """Share of records whose predicted multiset equals the gold one."""
        return self.exact / self.records if self.records else 1.0

    def add(
        self,
        record: str,
        gold: Counter[Key],
        pred: Counter[Key],
        ctx: Callable[[Key, bool], str],
    ) -> None:
        """Count one record: true positives, misses and false hits with their context."""
        self.records += 1
        tp = gold & pred
        self.tp += sum(tp.values())
        if gold == pred:
            self.exact += 1
        for key, n in (gold - pred).items():
            self.fn += n
            self.misses.extend(Case(record, key, ctx(key, False)) for _ in range(n))
        for key, n in (pred - gold).items():
            self.fp += n
            self.false_hits.extend(Case(record, key, ctx(key, True)) for _ in range(n))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "records": self.records,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "exact_share": round(self.exact_share, 4),
        }


def _context(text: str, start: int, end: int, width: int = 40) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    snippet = text[a:start] + "[[" + text[start:end] + "]]" + text[end:b]
    return re.sub(r"\s+", " ", snippet)


def _find_context(ad: Ad, needle: str) -> str:
    for name in ("title", "body", "url"):
        text = ad.text_of(name)
        i = text.lower().find(needle.lower()) if needle else -1
        if i >= 0:
            return f"{name}: " + _context(text, i, i + len(needle))
    return "(not written literally) " + re.sub(r"\s+", " ", (ad.title + " | " + ad.body)[:160])


def _entity_context(ad: Ad, ents: list[Entity], key: Key, keyfn: Callable[[Entity], Key]) -> str:
    for e in ents:
        if keyfn(e) == key:
            return f"{e.field}: " + _context(ad.text_of(e.field), e.start, e.end)
    return ""


def _read_gold(path: Path) -> list[tuple[Ad, dict[str, Any]]]:
    """Gold records as Ads (``text`` read as ``body``). Unlike analyze, a record with
    only a URL is kept: the gold scores phones in URLs too."""
    import json

    out: list[tuple[Ad, dict[str, Any]]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AdsentryError(f"{path}:{n}: gold record is not JSON ({exc.msg})") from None
            body_key = "body" if "body" in rec else "text"
            ad = Ad(
                ad_id=str(rec.get("id", n)),
                source="gold",
                title=rec.get("title") or "",
                body=rec.get(body_key) or "",
                url=rec.get("url") or "",
                field_names={"body": body_key},
            )
            out.append((ad, rec))
    return out


def _price_key(value: Any) -> Key:
    return (int(value["amount"]) if float(value["amount"]).is_integer() else value["amount"],
            value.get("minutes"))  # fmt: skip


def _resolve_unannotated(gold: Counter[Key], pred: Counter[Key]) -> Counter[Key]:
    """Match gold prices without a unit on their amount alone: each takes the minutes of
    a predicted price of the same amount not already matched exactly."""
    if not any(k[1] == UNANNOTATED for k in gold):
        return gold
    resolved: Counter[Key] = Counter({k: n for k, n in gold.items() if k[1] != UNANNOTATED})
    free = pred - resolved
    for (amount, _), n in sorted((k, n) for k, n in gold.items() if k[1] == UNANNOTATED):
        for _ in range(n):
            match = next((k for k in sorted(free, key=str) if k[0] == amount and free[k]), None)
            key = match if match is not None else (amount, None)
            if match is not None:
                free[match] -= 1
            resolved[key] += 1
    return resolved


def gold_keys(kind: str, rec: dict[str, Any], scope: str = "text") -> Counter[Key]:
    """The gold keys of one record for ``kind`` (and ``scope`` text/url for phones)."""
    if kind == "phone":
        return Counter(set(rec.get("phones_url" if scope == "url" else "phones_text", [])))
    if kind == "age":
        return Counter({int(a) for a in rec.get("ages", [])})
    if kind == "price":
        from adsentry.extract.price import unit_minutes

        return Counter(
            (int(p["amount"]), unit_minutes(p["unit"]) if p.get("unit") else UNANNOTATED)
            for p in rec["prices"]
        )
    if kind == "handle":
        return Counter({f"{h['platform']}:{h['handle']}".lower() for h in rec.get("handles", [])})
    if kind == "name":
        return Counter({n.lower(): 1 for n in rec.get("names", [])})
    if kind == "location":
        return Counter({n.lower(): 1 for n in rec.get("locations", [])})
    raise AdsentryError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")


def entity_key(kind: str) -> Callable[[Entity], Key]:
    """How an extracted entity of ``kind`` is compared with the gold."""
    if kind == "price":
        return lambda e: _price_key(e.value)
    if kind in ("name", "location"):
        return lambda e: e.text.lower()
    if kind == "handle":
        return lambda e: str(e.value).lower()
    return lambda e: e.value


def evaluate(path: str | Path, kind: str, region: str = "US") -> list[Score]:
    """Score the ``kind`` extractor on the gold file at ``path``.

    Returns one Score (two for phones: text fields and the url field). Raises
    AdsentryError for an unknown kind or an unreadable gold file.
    """
    from adsentry.extract import extract_all

    if kind not in KINDS:
        raise AdsentryError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    records = _read_gold(Path(path))
    field = GOLD_FIELDS[kind]
    if records and not any(field in rec for _, rec in records):
        raise AdsentryError(
            f"{path}: no record has a {field!r} field, so it is not a gold file for --kind {kind}"
        )
    scopes = ("text", "url") if kind == "phone" else ("text",)
    scores = {s: Score(f"{kind} ({s} fields)" if kind == "phone" else kind) for s in scopes}
    keyfn = entity_key(kind)
    for ad, rec in records:
        ents = [e for e in extract_all(ad, region=region, names=[kind]) if e.kind == kind]
        if kind in ("name", "location"):
            ents = list({e.text.lower(): e for e in ents}.values())
        for scope in scopes:
            mine = [e for e in ents if (e.field == "url") == (scope == "url")]
            keys = [keyfn(e) for e in mine]
            # Prices are compared as multisets (a price list may repeat an amount);
            # every other kind as sets (a phone written twice is one phone).
            pred = Counter(keys) if kind == "price" else Counter(set(keys))
            gold = gold_keys(kind, rec, scope)
            if kind == "price":
                gold = _resolve_unannotated(gold, pred)

            def ctx(key: Key, is_hit: bool, mine: list[Entity] = mine, ad: Ad = ad) -> str:
                if is_hit:
                    return _entity_context(ad, mine, key, keyfn)
                if isinstance(key, str) and kind in ("name", "location"):
                    return _find_context(ad, key)
                return re.sub(r"\s+", " ", (ad.title + " | " + ad.body)[:200])

            scores[scope].add(ad.ad_id, gold, pred, ctx)
    return list(scores.values())


def phonenumbers_baseline(path: str | Path, region: str = "US") -> list[Score]:
    """phonenumbers' PhoneNumberMatcher alone (leniency VALID) on a phone gold file:
    the baseline a user would otherwise pick."""
    import phonenumbers

    scores = {s: Score(f"PhoneNumberMatcher ({s} fields)") for s in ("text", "url")}
    for ad, rec in _read_gold(Path(path)):
        for scope, fields in (("text", ("title", "body")), ("url", ("url",))):
            found = {
                phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                for name in fields
                for m in phonenumbers.PhoneNumberMatcher(
                    ad.text_of(name), region, leniency=phonenumbers.Leniency.VALID
                )
            }
            scores[scope].add(
                ad.ad_id, gold_keys("phone", rec, scope), Counter(found), lambda k, h: ""
            )
    return list(scores.values())


def iter_cases(scores: Iterable[Score]) -> Iterable[tuple[str, str, Case]]:
    """(score name, "miss" or "false hit", case) for every error, misses first."""
    for s in scores:
        for c in s.misses:
            yield s.name, "miss", c
        for c in s.false_hits:
            yield s.name, "false hit", c
