"""What an extractor sees of one ad: its text fields and their normalized views."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from adsentry.model import TEXT_FIELDS, Ad
from adsentry.text import NormalizedText, normalize


class ExtractionContext:
    """One ad prepared for extraction.

    ``view(field)`` returns the normalized view (computed once per field and cached);
    ``default_region`` is the ISO 3166-1 alpha-2 fallback for phone numbers written
    without a country code; ``source_regions`` maps a source name to its region.
    """

    __slots__ = ("_region", "_views", "ad", "default_region", "fields", "source_regions")

    def __init__(
        self,
        ad: Ad,
        *,
        default_region: str = "US",
        source_regions: Mapping[str, str] | None = None,
    ) -> None:
        self.ad = ad
        self.default_region = default_region.upper()
        self.source_regions = source_regions or {}
        self.fields: tuple[str, ...] = TEXT_FIELDS
        self._views: dict[str, NormalizedText] = {}
        self._region: str | None = None

    def phone_region(self) -> str:
        """The country (ISO 3166-1 alpha-2) of phone numbers written without one.

        Decided in this order: the ad's own location (its ``location`` field, the host
        of its URL such as ``melbourne.backpage.com``, place names in title and body),
        then the region set for its source, then ``default_region``.
        """
        if self._region is None:
            self._region = self._infer_region()
        return self._region

    def _infer_region(self) -> str:
        from adsentry.gazetteer import country_of, country_of_location_field

        ad = self.ad
        if ad.location.strip():
            code = country_of_location_field(ad.location)
            if code:
                return code
        candidates = []
        if ad.url:
            try:
                host = urlsplit(ad.url if "://" in ad.url else "http://" + ad.url).hostname
            except ValueError:
                host = None
            if host:
                labels = host.split(".")
                if len(labels) > 2 and labels[0] not in ("www", "m", "mobile"):
                    candidates.append(labels[0])
        candidates += [ad.title, ad.body]
        for text in candidates:
            if text and text.strip():
                code = country_of(text)
                if code:
                    return code
        source = self.source_regions.get(ad.source)
        return source or self.default_region

    def text(self, field: str) -> str:
        """The original text of ``field``."""
        return self.ad.text_of(field)

    def view(self, field: str) -> NormalizedText:
        """The normalized view of ``field`` with its offset map back to the original."""
        nt = self._views.get(field)
        if nt is None:
            nt = normalize(self.ad.text_of(field))
            self._views[field] = nt
        return nt
