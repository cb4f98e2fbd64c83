"""What an extractor sees of one ad: its text fields and their normalized views."""

from __future__ import annotations

from adsentry.model import TEXT_FIELDS, Ad
from adsentry.text import NormalizedText, normalize


class ExtractionContext:
    """One ad prepared for extraction.

    ``view(field)`` returns the normalized view (computed once per field and cached);
    ``default_region`` is the ISO 3166-1 alpha-2 fallback for phone numbers written
    without a country code.
    """

    __slots__ = ("_views", "ad", "default_region", "fields")

    def __init__(self, ad: Ad, *, default_region: str = "US") -> None:
        self.ad = ad
        self.default_region = default_region.upper()
        self.fields: tuple[str, ...] = TEXT_FIELDS
        self._views: dict[str, NormalizedText] = {}

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
