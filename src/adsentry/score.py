"""Assessments: a score in [0, 1] for an ad or a network, as a transparent sum of
weighted contributions, each pointing at its evidence.

The rules (docs/scoring.md says the same for readers):

* An **ad** scores the sum of the weights of its indicator codes (each code counts
  once, however many spans it has), plus, when the ad belongs to a network,
  ``weights["network"]`` times that network's score. Evidence of an indicator
  contribution is its spans; of the network contribution, the network id, its size and
  score.
* A **network** scores the sum of its structural facts, computed from the links
  (:func:`network_facts`): one phone with several working names, a template reused
  under several names or cities, many cities in a short time, several people, and the
  share of its ads that carry a validated cue. Each is a fact with its evidence; its
  weight is a judgement (docs/indicators.md: "show them as facts with their evidence,
  and say that their weight is a judgement, not a finding").
* The sum is clipped to [0, 1]; when it is clipped a ``clip`` contribution says by how
  much, so the contributions always add up to the score.
* **A folk cue alone never lifts an ad past ``allow``**: when every positive
  contribution is folk, a ``folk_cap`` contribution brings the total just under the
  review threshold (docs/indicators.md: "A folk cue alone never moves an ad past
  review").

Default weights (:data:`DEFAULT_WEIGHTS`) and their sources are in
:data:`WEIGHT_SOURCES`; ``[score.weights]`` in ``adsentry.toml`` or
``ADSENTRY_WEIGHTS`` overrides them, ``[policy]`` sets the thresholds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adsentry.io.encode import dumps
from adsentry.model import Indicator

if TYPE_CHECKING:  # the store is only passed in; importing it costs start-up time
    from adsentry.link.incremental import LinkScope
    from adsentry.store import Store

#: Study behind the validated cues (docs/indicators.md).
JRSA = (
    "JRSA/JIRN for NIJ (Lugo-Graulich, Meyer et al.), Indicators of Sex Trafficking in "
    "Online Escort Ads, 2021-2022: significant predictor in 1,263 ads with known outcomes"
)
_EQUAL = (
    "; weight: judgement (equal for the four validated cues: we have no effect sizes to rank them)"
)
_FOLK = "folk cue, not validated by an outcome study; weight: judgement, kept small"
_FACT = "structural fact from adsentry's own linking; weight: judgement, not a finding"

#: Default weight of each contribution code.
DEFAULT_WEIGHTS: dict[str, float] = {
    # validated lexical cues (the four of the JRSA study)
    "obscured_contact": 0.2,
    "youth_language": 0.2,
    "ethnicity_stated": 0.2,
    "trustworthy_language": 0.2,
    # folk lexical cues
    "client_screening": 0.05,
    "stated_age_under_23": 0.05,
    "multiple_providers": 0.05,
    "third_party_language": 0.05,
    "movement_language": 0.0,
    # an ad in a network: this weight times the network's score
    "network": 0.4,
    # network facts
    "phone_many_names": 0.25,
    "template_reuse": 0.2,
    "many_cities_short_time": 0.2,
    "several_people": 0.15,
    "validated_share": 0.2,
}

#: Why each default weight is what it is.
WEIGHT_SOURCES: dict[str, str] = {
    "obscured_contact": JRSA + _EQUAL,
    "youth_language": JRSA + _EQUAL,
    "ethnicity_stated": JRSA + _EQUAL,
    "trustworthy_language": JRSA + _EQUAL,
    "client_screening": _FOLK + " (usually not a predictor in the JRSA study)",
    "stated_age_under_23": _FOLK + " (not a significant predictor in the JRSA study)",
    "multiple_providers": _FOLK,
    "third_party_language": _FOLK,
    "movement_language": (
        "folk cue refuted by the JRSA study (about 70% LESS likely in trafficking ads): "
        "weight 0, shown but never counted"
    ),
    "network": "the ad's network score carried over; weight: judgement",
    "phone_many_names": _FACT,
    "template_reuse": _FACT,
    "many_cities_short_time": _FACT,
    "several_people": _FACT,
    "validated_share": _FACT + " (share of the network's ads with a validated cue)",
}

#: Thresholds of the decision: ``review`` and ``hold`` (score >= threshold).
DEFAULT_POLICY: dict[str, float] = {"review": 0.4, "hold": 0.7}


@dataclass(frozen=True, slots=True)
class ScoreSettings:
    """Weights (code -> weight, >= 0) and policy thresholds (0 < review <= hold <= 1).

    Raises ValueError naming the setting when a value is out of range.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    review: float = DEFAULT_POLICY["review"]
    hold: float = DEFAULT_POLICY["hold"]

    def __post_init__(self) -> None:
        for code, w in self.weights.items():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"score weight {code} = {w}: must be between 0 and 1")
        if not 0.0 < self.review <= self.hold <= 1.0:
            raise ValueError(
                f"policy review = {self.review}, hold = {self.hold}: need 0 < review <= hold <= 1"
            )

    def weight(self, code: str) -> float:
        """The weight of ``code`` (0 for a code with no weight)."""
        return float(self.weights.get(code, 0.0))

    def decision(self, score: float) -> str:
        """``hold``, ``review`` or ``allow`` for a score."""
        if score >= self.hold:
            return "hold"
        if score >= self.review:
            return "review"
        return "allow"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One term of a score: ``code``, ``weight`` (what it adds; negative only for the
    ``clip`` and ``folk_cap`` adjustments), whether the cue is ``validated``, a
    readable ``evidence`` line, and the ``spans`` (for lexical cues, as dicts
    ``{"field", "start", "end", "text"}``) or ``facts`` (for network facts) it rests
    on."""

    code: str
    weight: float
    evidence: str
    validated: bool = False
    folk: bool = False
    spans: tuple[dict[str, Any], ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "weight": round(self.weight, 4),
            "validated": self.validated,
            "evidence": self.evidence,
        }
        if self.spans:
            out["spans"] = list(self.spans)
        if self.facts:
            out["facts"] = dict(self.facts)
        return out


@dataclass(frozen=True, slots=True)
class Assessment:
    """A score in [0, 1], the contributions that add up to it (rounded to 4 places)
    and the policy decision (``allow``, ``review``, ``hold``)."""

    score: float
    contributions: tuple[Contribution, ...]
    decision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "decision": self.decision,
            "contributions": [c.to_dict() for c in self.contributions],
        }


@dataclass(frozen=True, slots=True)
class NetworkRef:
    """What an ad's assessment needs to know of its network."""

    network_id: str
    size: int
    score: float


def _total(parts: list[Contribution], settings: ScoreSettings) -> Assessment:
    """Sum ``parts`` (zero weights dropped), apply the folk cap and the clip."""
    parts = [c for c in parts if c.weight > 0]
    total = sum(c.weight for c in parts)
    if parts and all(c.folk for c in parts):
        cap = max(0.0, round(settings.review - 0.01, 4))
        if total > cap:
            parts.append(
                Contribution(
                    "folk_cap",
                    cap - total,
                    "folk cues alone never lift an ad past allow: capped under the "
                    f"review threshold {settings.review}",
                )
            )
            total = cap
    if total > 1.0:
        parts.append(Contribution("clip", 1.0 - total, "a score is at most 1"))
        total = 1.0
    score = round(total, 4)
    return Assessment(score, tuple(parts), settings.decision(score))


def _quote(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def assess_ad(
    indicators: Sequence[Indicator],
    settings: ScoreSettings,
    network: NetworkRef | None = None,
    field_names: Mapping[str, str] | None = None,
) -> Assessment:
    """The assessment of one ad from its indicators and, when it belongs to one (or
    would join one, when screened), its network.

    ``field_names`` maps canonical field names to the input record's own keys for the
    spans shown. Pure and deterministic: the same inputs give the same Assessment.
    """
    names = field_names or {}
    parts: list[Contribution] = []
    for ind in sorted(indicators, key=lambda i: i.code):
        spans = tuple({**s.to_dict(), "field": names.get(s.field, s.field)} for s in ind.spans)
        quoted = ", ".join(f'"{_quote(s.text)}"' for s in ind.spans[:3])
        more = f" and {len(ind.spans) - 3} more" if len(ind.spans) > 3 else ""
        kind = "validated" if ind.validated else "folk"
        parts.append(
            Contribution(
                ind.code,
                settings.weight(ind.code),
                f"{kind} cue: {quoted}{more}",
                validated=ind.validated,
                folk=not ind.validated,
                spans=spans,
            )
        )
    if network is not None and network.score > 0:
        parts.append(
            Contribution(
                "network",
                settings.weight("network") * network.score,
                f"in network {network.network_id} ({network.size} ads) scored {network.score:.2f}",
                facts={
                    "network_id": network.network_id,
                    "size": network.size,
                    "score": network.score,
                },
            )
        )
    return _total(parts, settings)


# --------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------

#: Bars of the network facts (judgement; docs/scoring.md).
MIN_NAMES_PER_PHONE = 3
MIN_TEMPLATE_ADS = 3
MIN_CITIES = 3
CITY_WINDOW = timedelta(days=14)
MIN_PEOPLE = 3


@dataclass(frozen=True, slots=True)
class NetworkAd:
    """What the network assessment reads of one member ad: its key, ``posted_at``
    (ISO 8601 or None), template id, the normalized values of its phones, names and
    cities, and its indicators' codes with their validated flag."""

    source: str
    ad_id: str
    posted_at: str | None = None
    template_id: str | None = None
    phones: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    indicators: tuple[tuple[str, bool], ...] = ()


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _cities_in_window(ads: Sequence[NetworkAd]) -> tuple[list[str], str, str] | None:
    """The most distinct cities posted within :data:`CITY_WINDOW`, if at least
    :data:`MIN_CITIES`: ``(cities, first, last)``."""
    dated = sorted(
        (t, c) for a in ads if (t := _when(a.posted_at)) is not None for c in set(a.cities)
    )
    best: tuple[list[str], str, str] | None = None
    lo = 0
    counts: dict[str, int] = defaultdict(int)
    for t, c in dated:
        counts[c] += 1
        while dated[lo][0] < t - CITY_WINDOW:
            old = dated[lo][1]
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            lo += 1
        if len(counts) >= MIN_CITIES and (best is None or len(counts) > len(best[0])):
            best = (sorted(counts), dated[lo][0].isoformat(), t.isoformat())
    return best


def _count(n: int, word: str, plural: str | None = None) -> str:
    """``"1 ad"``, ``"3 ads"``."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def network_facts(ads: Sequence[NetworkAd], settings: ScoreSettings) -> list[Contribution]:
    """The structural facts of one network (contributions with weights from
    ``settings``, zero-weight ones included), each with its evidence:

    - ``phone_many_names``: a phone carried with >= 3 distinct working names;
    - ``template_reuse``: a template used by >= 3 ads under >= 2 names or cities;
    - ``many_cities_short_time``: >= 3 distinct cities within 14 days;
    - ``several_people``: >= 3 distinct working names in the network, or an ad that
      names several providers (the ``multiple_providers`` cue);
    - ``validated_share``: the weight times the share of ads with a validated cue.

    The bars are judgement (docs/scoring.md), not findings of a study.
    """
    out: list[Contribution] = []
    names_of_phone: dict[str, set[str]] = defaultdict(set)
    for a in ads:
        for p in a.phones:
            names_of_phone[p].update(n.lower() for n in a.names)
    ranked = sorted(names_of_phone.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    if ranked and len(ranked[0][1]) >= MIN_NAMES_PER_PHONE:
        phone, phone_names = ranked[0]
        out.append(
            Contribution(
                "phone_many_names",
                settings.weight("phone_many_names"),
                f"one phone with {len(phone_names)} working names",
                facts={"phone": phone, "names": sorted(phone_names)},
            )
        )
    by_template: dict[str, list[NetworkAd]] = defaultdict(list)
    for a in ads:
        if a.template_id:
            by_template[a.template_id].append(a)
    reused = []
    for tid, members in sorted(by_template.items()):
        t_names = {n.lower() for a in members for n in a.names}
        t_cities = {c for a in members for c in a.cities}
        if len(members) >= MIN_TEMPLATE_ADS and (len(t_names) >= 2 or len(t_cities) >= 2):
            reused.append((len(members), tid, len(t_names), len(t_cities)))
    if reused:
        n_ads, tid, n_names, n_cities = max(reused)
        out.append(
            Contribution(
                "template_reuse",
                settings.weight("template_reuse"),
                f"template {tid} reused by {n_ads} ads"
                + (f" under {_count(n_names, 'working name')}" if n_names else "")
                + (f" in {_count(n_cities, 'city', 'cities')}" if n_cities else ""),
                facts={"template_id": tid, "ads": n_ads, "names": n_names, "cities": n_cities},
            )
        )
    window = _cities_in_window(ads)
    if window is not None:
        cities, first, last = window
        out.append(
            Contribution(
                "many_cities_short_time",
                settings.weight("many_cities_short_time"),
                f"{len(cities)} cities within {CITY_WINDOW.days} days",
                facts={"cities": cities, "first": first, "last": last},
            )
        )
    all_names = sorted({n.lower() for a in ads for n in a.names})
    multi = sorted(
        f"{a.source}/{a.ad_id}"
        for a in ads
        if any(c == "multiple_providers" for c, _ in a.indicators)
    )
    if len(all_names) >= MIN_PEOPLE or multi:
        what = f"{len(all_names)} working names" if len(all_names) >= MIN_PEOPLE else ""
        if multi:
            what += (", " if what else "") + (
                f"{_count(len(multi), 'ad')} naming several providers"
            )
        out.append(
            Contribution(
                "several_people",
                settings.weight("several_people"),
                what,
                facts={"names": all_names, "ads_with_several": multi[:20]},
            )
        )
    with_validated = sum(1 for a in ads if any(v for _, v in a.indicators))
    if with_validated:
        share = with_validated / len(ads)
        out.append(
            Contribution(
                "validated_share",
                settings.weight("validated_share") * share,
                f"{with_validated} of {_count(len(ads), 'ad')} "
                + ("carries" if with_validated == 1 else "carry")
                + " a validated cue",
                validated=True,
                facts={"ads_with_validated_cue": with_validated, "ads": len(ads)},
            )
        )
    return out


def assess_network(ads: Sequence[NetworkAd], settings: ScoreSettings) -> Assessment:
    """The assessment of one network from its member ads (:func:`network_facts`)."""
    return _total(network_facts(ads, settings), settings)


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``"code=0.2,other=0.1"`` (the form of ``ADSENTRY_WEIGHTS``).

    Raises ValueError naming the item that is not ``CODE=NUMBER``.
    """
    out: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        code, sep, value = item.partition("=")
        try:
            if not sep or not code.strip():
                raise ValueError
            out[code.strip()] = float(value)
        except ValueError:
            raise ValueError(
                f"{item.strip()!r}: expected CODE=NUMBER, e.g. youth_language=0.2"
            ) from None
    return out


def known_codes() -> set[str]:
    """Every code a weight may be set for (every indicator code and network fact has a
    default weight; a test checks it)."""
    return set(DEFAULT_WEIGHTS)


# --------------------------------------------------------------------------------------
# stored assessments
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """What :func:`rescore` wrote: ads and networks assessed, and how many of each
    reached ``review`` or ``hold``."""

    ads: int
    networks: int
    ads_flagged: int
    networks_flagged: int

    def line(self) -> str:
        return (
            f"scored {self.ads:,} ads ({self.ads_flagged:,} review or hold) and "
            f"{self.networks:,} networks ({self.networks_flagged:,} review or hold)"
        )


def network_ads(
    store: Store,
    pks: Sequence[int] | None = None,
    *,
    assignments: Sequence[tuple[str, str, int, str | None, str | None]] | None = None,
    indicators: Mapping[int, Sequence[Indicator]] | None = None,
) -> dict[str, list[NetworkAd]]:
    """Network id -> its member ads as :func:`assess_network` reads them, from the
    stored links, entities (generic phones left out) and indicators; only the networks
    of the ads ``pks`` when given (then ``pks`` must hold whole networks). An ad's
    cities are its places with a state or country
    (:func:`adsentry.link.identifiers.ad_places`: its location entities, else the
    site's location field). ``assignments`` (as :meth:`Store.link_assignments` gives
    them) and ``indicators`` (ad pk -> Indicators) save reading them again when the
    caller has them."""
    from adsentry.link.identifiers import ad_places

    if assignments is None:
        assignments = store.link_assignments() if pks is None else store.link_assignments_of(pks)
    assignments = [r for r in assignments if r[3] is not None]
    pks = [pk for _, _, pk, _, _ in assignments]
    generic = {(k, v) for k, v, _, _ in store.generic_identifiers()}
    values: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in store.link_entities_of(pks, ("phone", "name", "location")):
        if (e.kind, e.value) not in generic and e.value not in values[e.ad_pk][e.kind]:
            values[e.ad_pk][e.kind].append(e.value)
    if indicators is None:
        indicators = store.indicators_of(pks)
    facts = store.current_dates_places() if len(pks) > 50_000 else store.dates_places_of(pks)
    out: dict[str, list[NetworkAd]] = defaultdict(list)
    for source, ad_id, pk, nid, tid in assignments:
        v = values.get(pk, {})
        posted, location_field = facts.get(pk, (None, ""))
        places = ad_places(v.get("location", ()), location_field)
        out[str(nid)].append(
            NetworkAd(
                source,
                ad_id,
                posted,
                tid,
                tuple(v.get("phone", ())),
                tuple(v.get("name", ())),
                tuple(sorted(p for p in places if ", " in p)),
                tuple((i.code, i.validated) for i in indicators.get(pk, ())),
            )
        )
    return out


def rescore(store: Store, settings: ScoreSettings, scope: LinkScope | None = None) -> ScoreReport:
    """Assess networks and current ads from what is stored (links, entities,
    indicators) and write the assessments in one transaction: every one (replacing all)
    when ``scope`` is None, else only the ads an incremental link run relinked and their
    networks (dropping the assessments of withdrawn versions and vanished networks).

    Run after each link run (``analyze`` and ``relink`` do), and after the weights or
    the policy change (then in full).
    """
    rows: list[tuple[str, str, float, str, str]] = []
    refs: dict[str, NetworkRef] = {}
    pks = None if scope is None else sorted(scope.ads)
    indicators = store.indicators_of(pks)
    assignments = store.link_assignments() if pks is None else store.link_assignments_of(pks)
    networks = network_ads(store, pks, assignments=assignments, indicators=indicators)
    for nid, members in sorted(networks.items()):
        a = assess_network(members, settings)
        refs[nid] = NetworkRef(nid, len(members), a.score)
        rows.append(("network", nid, a.score, a.decision, _json(a)))
    for _source, _ad_id, pk, ad_nid, _tid in assignments:
        ref = refs.get(ad_nid) if ad_nid is not None else None
        a = assess_ad(indicators.get(pk, ()), settings, ref)
        rows.append(("ad", str(pk), a.score, a.decision, _json(a)))
    if scope is None:
        store.replace_assessments(rows)
    else:
        drop = [("ad", str(pk)) for pk in sorted(scope.withdrawn)]
        drop += [("network", n) for n in sorted(scope.networks_before - refs.keys())]
        store.update_assessments(rows, drop)
    return ScoreReport(*store.assessment_counts())


def _json(a: Assessment) -> str:
    """The contributions as stored (:func:`adsentry.io.encode.dumps`: 2 against 17 µs
    an assessment with json.dumps; readers parse it as JSON)."""
    return dumps([c.to_dict() for c in a.contributions]).decode()


def top_scores(store: Store, subject: str, n: int = 20) -> list[dict[str, Any]]:
    """The ``n`` highest stored scores of ``subject`` (``"ad"`` or ``"network"``),
    highest first: ``{"network_id", "size"}`` or ``{"source", "ad_id"}``, with
    ``score``, ``decision`` and ``contributions`` (largest weight first)."""
    rows = store.top_assessments(subject, n)
    out: list[dict[str, Any]] = []
    if subject == "network":
        sizes = store.network_sizes([sid for sid, *_ in rows])
        for sid, sc, dec, contribs in rows:
            out.append(
                {
                    "network_id": sid,
                    "size": sizes.get(sid, 0),
                    "score": sc,
                    "decision": dec,
                    "contributions": _by_weight(contribs),
                }
            )
    else:
        ads = {a.pk: a for a in store.link_ads_by_pk([int(sid) for sid, *_ in rows])}
        for sid, sc, dec, contribs in rows:
            a = ads.get(int(sid))
            if a is None:
                continue
            out.append(
                {
                    "source": a.source,
                    "ad_id": a.ad_id,
                    "score": sc,
                    "decision": dec,
                    "contributions": _by_weight(contribs),
                }
            )
    return out


def _by_weight(contribs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(contribs, key=lambda c: (-float(c["weight"]), str(c["code"])))
