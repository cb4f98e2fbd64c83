"""A seeded generator of realistic, labelled escort-ad corpora.

``generate(n_ads, seed)`` yields ``(record, label)`` pairs in order of ``posted_at``;
``write_corpus`` writes them as two JSONL files. The same seed gives byte-identical
output (only ``random.Random(seed)`` is used; no ``hash()``, no set iteration).

What the corpus models (its labels are the ground truth):

* **Independent posters** (most posters, about 60 % of the ads): 1 to 5 ads each,
  days apart, usually one phone, one working name, one city, their own wording
  (sentences drawn once per poster and reused, with their own emoji, capitals, chat
  spelling and typos).
* **Organised groups** (well under 1 % of the actors, about 5 % of the posters, about
  40 % of the ads): 3 to 15 women (each one ``poster`` with one or two working names)
  share 1 to 4 phones across names and cities, post from 1 to 3 shared Templates whose
  slots vary (name, age, city, place, price, phone, ethnicity and body words), in
  bursts of several ads a few minutes apart, and move along a circuit of cities every
  one to three weeks.
* **Generic identifiers**: one booking-agency phone and one photographer handle that
  unrelated independent posters in many cities put in their ads.
* Countries and languages: US (mostly California metros; English, some Spanish),
  Mexico and Spain (Spanish), Denmark (Danish, some English). Prices in the local
  currency and idiom (``$150/hh``, ``200 la hora``, ``1500 kr/time``). Sites:
  ``demo-classifieds`` (all four countries, city subdomains: see ``CITY_COUNTRY``),
  ``demo-escorts`` (US), ``demo-anuncios`` (Mexico), ``demo-contactos`` (Spain) and
  ``demo-annoncer`` (Denmark).
* About 12 % of the ads write their phone obfuscated: spelled digits (English,
  Spanish, Danish), spelled and digits mixed, look-alike letters, keycap emoji,
  circled digits, full-width digits, a separator between every digit.

Phone numbers are fictional. US numbers are ``NPA-555-01XX``, the range that the
North American Numbering Plan reserves for fiction: 100 numbers per area code, 35,600
in all. Denmark, Spain and Mexico reserve no such range, so their numbers come from
blocks with an obvious dummy core (``+45 XX 12 34 YY``, ``+34 6XX 12 34 YY``,
``+52 AA 1234 56YY``; also with cores 2345 and 3456) that ``phonenumbers`` accepts as
valid: 21,900 Danish, 42,000 Spanish and 11,700 Mexican numbers. A number goes back to
its pool when its poster stops posting. When a country has no unused number left (the
US at about 140,000 ads) numbers are reassigned, least recently released first, as
carriers do; such a number then links posters whom the labels call unrelated.
"""

from __future__ import annotations

import heapq
import random
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from json.encoder import encode_basestring as _escape
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = ["CITY_COUNTRY", "DEFAULT_START", "NAMES", "SPAN_DAYS", "generate", "write_corpus"]

#: First instant of a corpus when ``start`` is not given.
DEFAULT_START = datetime(2017, 1, 1, tzinfo=UTC)
#: Days over which a corpus's ads are spread (about six months).
SPAN_DAYS = 181

# ---------------------------------------------------------------------------------
# Tunables. Shares are of actors (an independent poster or a group) unless named.

_GROUP_AD_SHARE = 0.40  # share of ads that groups post
_IND_QUOTA = (1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5)  # ads per poster
_GIRLS = (3, 15)  # women per group
_ADS_PER_GIRL = (12, 40)  # over the group's life
_WARMUP_DAYS = 120  # groups start this early, so the corpus opens mid-activity
_IND_WARMUP_DAYS = 60  # independents too (4 gaps of at most 14 days: she is done by 0)
_P_OBF_LOW, _P_OBF_HIGH, _P_OBF_HIGH_SHARE = 0.04, 0.36, 0.25  # mean 0.12 per ad
_P_AGENCY = 0.006  # independent US posters who list the booking agency
_P_PHOTOGRAPHER = 0.004  # ... and who credit the photographer's handle
_STYLE_VARIANTS = 8  # emoji variants kept per phrase, level and case
_P_LOCAL_NUMBER = 0.85  # a new number has a local area code when the city has one

_AGENCY_PHONE = "7025550199"  # generic: a booking agency in Las Vegas, many cities
_PHOTOGRAPHER = "@ig_user0001"  # generic: a photographer's handle


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------
# Places. A city: URL subdomain, display name, country, local number prefixes (US
# and Mexican area codes), weight within its country, neighbourhoods.

_CITY_ROWS: tuple[tuple[str, str, str, tuple[int, ...], int, tuple[str, ...]], ...] = (
    ("sandiego", "San Diego", "US", (619, 858, 760), 8,
     ("Downtown", "Pacific Beach", "Mission Valley", "Chula Vista", "Escondido",
      "Kearny Mesa", "La Mesa", "Hotel Circle", "Oceanside", "El Cajon")),
    ("losangeles", "Los Angeles", "US", (213, 323, 310, 818, 424, 747, 626), 16,
     ("Hollywood", "Downtown", "Koreatown", "Van Nuys", "Burbank", "Santa Monica", "LAX",
      "Glendale", "Pasadena", "North Hollywood", "Inglewood", "Culver City", "Torrance")),
    ("orangecounty", "Orange County", "US", (714, 949, 657), 7,
     ("Anaheim", "Irvine", "Santa Ana", "Costa Mesa", "Huntington Beach", "Garden Grove",
      "Newport Beach", "Fullerton")),
    ("longbeach", "Long Beach", "US", (562,), 3,
     ("Downtown", "Belmont Shore", "Signal Hill", "Lakewood", "Bellflower")),
    ("inlandempire", "Inland Empire", "US", (909, 951), 6,
     ("Ontario", "Riverside", "San Bernardino", "Rancho Cucamonga", "Corona", "Temecula",
      "Moreno Valley", "Fontana")),
    ("sfbay", "San Francisco", "US", (415, 628, 650), 7,
     ("SoMa", "Tenderloin", "Mission", "Union Square", "Daly City", "SFO", "Nob Hill")),
    ("eastbay", "Oakland", "US", (510, 341, 925), 5,
     ("Emeryville", "Berkeley", "Hayward", "Fremont", "Walnut Creek", "San Leandro")),
    ("sanjose", "San Jose", "US", (408, 669), 5,
     ("Santa Clara", "Sunnyvale", "Milpitas", "Downtown", "Campbell", "Mountain View")),
    ("sacramento", "Sacramento", "US", (916, 279), 5,
     ("Rancho Cordova", "Elk Grove", "Roseville", "Natomas", "Arden", "Citrus Heights")),
    ("fresno", "Fresno", "US", (559,), 3,
     ("Clovis", "Downtown", "Shaw Ave", "Visalia", "Tower District")),
    ("bakersfield", "Bakersfield", "US", (661,), 2, ("Rosedale", "Downtown", "Oildale")),
    ("ventura", "Ventura", "US", (805, 820), 2,
     ("Oxnard", "Thousand Oaks", "Camarillo", "Simi Valley")),
    ("santabarbara", "Santa Barbara", "US", (805,), 1, ("Goleta", "State St", "Santa Maria")),
    ("palmsprings", "Palm Springs", "US", (760, 442), 1,
     ("Cathedral City", "Palm Desert", "Indio")),
    ("stockton", "Stockton", "US", (209,), 2, ("Modesto", "Lodi", "Tracy", "Manteca")),
    ("northbay", "Santa Rosa", "US", (707,), 1, ("Petaluma", "Vallejo", "Napa")),
    ("monterey", "Monterey", "US", (831,), 1, ("Salinas", "Seaside", "Santa Cruz")),
    ("lasvegas", "Las Vegas", "US", (702, 725), 5,
     ("The Strip", "Henderson", "Summerlin", "Downtown", "Paradise")),
    ("phoenix", "Phoenix", "US", (602, 480, 623), 3,
     ("Scottsdale", "Tempe", "Mesa", "Glendale", "Chandler")),
    ("portland", "Portland", "US", (503, 971), 2, ("Beaverton", "Gresham", "Downtown")),
    ("seattle", "Seattle", "US", (206, 425, 253), 2,
     ("Bellevue", "Tacoma", "Lynnwood", "SeaTac", "Capitol Hill")),
    ("houston", "Houston", "US", (713, 281, 832), 2,
     ("Galleria", "Downtown", "Westchase", "Katy")),
    ("dallas", "Dallas", "US", (214, 469, 972), 2, ("Irving", "Arlington", "Plano", "Uptown")),
    ("miami", "Miami", "US", (305, 786), 2, ("Brickell", "Doral", "Hialeah", "Miami Beach")),
    ("newyork", "New York", "US", (212, 718, 917, 646), 2,
     ("Manhattan", "Queens", "Brooklyn", "Bronx", "Midtown")),
    ("tijuana", "Tijuana", "MX", (664,), 3, ("Zona Río", "Zona Norte", "Playas", "Otay")),
    ("mexicali", "Mexicali", "MX", (686,), 1, ("Centro", "Nuevo Mexicali")),
    ("cdmx", "Ciudad de México", "MX", (55,), 4,
     ("Polanco", "Condesa", "Roma Norte", "Zona Rosa", "Coyoacán", "Narvarte")),
    ("guadalajara", "Guadalajara", "MX", (33,), 2,
     ("Providencia", "Chapultepec", "Zapopan", "Centro")),
    ("monterrey", "Monterrey", "MX", (81,), 2,
     ("San Pedro", "Centro", "Valle Oriente", "Cumbres")),
    ("cancun", "Cancún", "MX", (998,), 1, ("Zona Hotelera", "Centro", "Malecón Tajamar")),
    ("madrid", "Madrid", "ES", (), 3,
     ("Chamberí", "Salamanca", "Centro", "Tetuán", "Moncloa", "Chamartín")),
    ("barcelona", "Barcelona", "ES", (), 3,
     ("Eixample", "Gràcia", "Sants", "Les Corts", "Poblenou")),
    ("valencia", "Valencia", "ES", (), 1, ("Ruzafa", "Benimaclet", "Centro", "Campanar")),
    ("sevilla", "Sevilla", "ES", (), 1, ("Triana", "Nervión", "Los Remedios")),
    ("malaga", "Málaga", "ES", (), 1, ("Centro", "Teatinos", "El Palo")),
    ("bilbao", "Bilbao", "ES", (), 1, ("Abando", "Indautxu", "Deusto")),
    ("kobenhavn", "København", "DK", (), 5,
     ("Vesterbro", "Nørrebro", "Østerbro", "Amager", "Frederiksberg", "Valby")),
    ("aarhus", "Aarhus", "DK", (), 2, ("Centrum", "Trøjborg", "Viby", "Frederiksbjerg")),
    ("odense", "Odense", "DK", (), 1, ("Centrum", "Dalum", "Hunderup", "Bolbro")),
    ("aalborg", "Aalborg", "DK", (), 1, ("Centrum", "Nørresundby", "Vejgaard")),
    ("esbjerg", "Esbjerg", "DK", (), 1, ("Centrum", "Jerne", "Kvaglund")),
    ("randers", "Randers", "DK", (), 1, ("Centrum", "Vorup")),
    ("kolding", "Kolding", "DK", (), 1, ("Centrum", "Seest")),
    ("vejle", "Vejle", "DK", (), 1, ("Centrum", "Bredballe")),
    ("roskilde", "Roskilde", "DK", (), 1, ("Centrum", "Himmelev")),
)  # fmt: skip

# US area codes that phonenumbers validates with 555-01XX (geographic ones only:
# toll-free, premium and personal-communication codes are left out).
_US_AREA_CODES = _words(
    "201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 220 223 224 "
    "225 227 228 229 231 234 239 240 248 251 252 253 254 256 260 262 267 269 270 272 "
    "274 276 279 281 283 301 302 303 304 305 307 308 309 310 312 313 314 315 316 317 "
    "318 319 320 321 323 325 326 327 329 330 331 332 334 336 337 339 341 346 347 350 "
    "351 352 353 360 361 363 364 369 380 385 386 401 402 404 405 406 407 408 409 410 "
    "412 413 414 415 417 419 423 424 425 430 432 434 435 440 442 443 445 447 448 458 "
    "463 464 469 470 472 475 478 479 480 484 501 502 503 504 505 507 508 509 510 512 "
    "513 515 516 517 518 520 530 531 534 539 540 541 551 557 559 561 562 563 564 567 "
    "570 571 572 573 574 575 580 582 585 586 601 602 603 605 606 607 608 609 610 612 "
    "614 615 616 617 618 619 620 623 626 628 629 630 631 636 640 641 645 646 650 651 "
    "656 657 659 660 661 662 667 669 678 680 681 682 686 689 701 702 703 704 706 707 "
    "708 712 713 714 715 716 717 718 719 720 724 725 726 727 728 730 731 732 734 737 "
    "738 740 743 747 748 754 757 760 762 763 765 769 770 771 772 773 774 775 779 781 "
    "785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817 818 820 826 828 "
    "830 831 832 835 838 839 840 843 845 847 848 850 854 856 857 858 859 860 862 863 "
    "864 865 870 872 878 901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 "
    "919 920 925 928 929 930 931 934 936 937 938 940 941 943 945 947 948 949 951 952 "
    "954 956 959 970 971 972 973 975 978 979 980 983 984 985 986 989"
)
# Danish 8-digit numbers: two leading digits (those phonenumbers accepts, less 80
# toll-free and 90 premium rate), a dummy core, two varying digits.
_DK_LEADS = tuple(f"{x}" for x in range(20, 100) if x not in (37, 80, 83, 84, 85, 90, 95))
# Spanish mobiles 6XX and 71X-74X.
_ES_LEADS = tuple(f"{x}" for x in (*range(600, 700), *range(710, 750)))
# Mexican area codes (2 and 3 digits) of large cities.
_MX_AREAS = _words(
    "55 33 81 664 686 998 222 442 477 614 656 662 667 669 744 999 229 449 444 833 871 "
    "951 961 322 624 612 631 868 899 867 844 443 311 312 618 492 771 777 722"
)
_CORES = ("1234", "2345", "3456")  # the dummy middle of non-US numbers


def _blocks(country: str, lead: str) -> tuple[str, ...]:
    """Number blocks of a lead (area code...): national digits but the last two."""
    if country == "US":
        return (f"{lead}55501",)
    if country == "MX":  # 10 digits: the area code, a dummy core, two varying digits
        return tuple((lead + c)[:8] for c in ("123456", "234567", "345678"))
    return tuple(lead + c for c in _CORES)  # DK (8 digits), ES (9 digits)


_LEADS = {"US": _US_AREA_CODES, "DK": _DK_LEADS, "ES": _ES_LEADS, "MX": _MX_AREAS}
#: Every block a country's numbers come from (each gives 100 numbers).
_BLOCKS = {
    cc: tuple(b for lead in leads for b in _blocks(cc, lead)) for cc, leads in _LEADS.items()
}


def _groups(country: str, d: str) -> tuple[str, ...]:
    """How a national number is cut into digit groups when written."""
    if country == "US":
        return (d[:3], d[3:6], d[6:])
    if country == "DK":
        return (d[:2], d[2:4], d[4:6], d[6:])
    if country == "ES":
        return (d[:3], d[3:5], d[5:7], d[7:])
    if d[:2] in ("55", "33", "81"):  # two-digit area codes
        return (d[:2], d[2:6], d[6:])
    return (d[:3], d[3:6], d[6:])


@dataclass(frozen=True, slots=True)
class _City:
    key: str  # URL subdomain
    name: str
    country: str
    prefixes: tuple[str, ...]  # local number blocks
    weight: int
    hoods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    tz: int  # hours from UTC (standard time)
    langs: tuple[str, ...]  # drawn uniformly (repeats weigh)
    sources: tuple[str, ...]
    currency: str
    weight: float
    plain: tuple[str, ...]  # plain formats over the digit groups (repeats weigh)


_COUNTRIES: dict[str, _Country] = {
    "US": _Country(
        "US", -8, ("en",) * 22 + ("es",) * 3, ("demo-classifieds",) * 7 + ("demo-escorts",) * 3,
        "USD", 0.78,
        ("({0}) {1}-{2}", "{0}.{1}.{2}", "{0}{1}{2}", "+1 {0} {1} {2}", "{0}-{1}-{2}",
         "{0}-{1}-{2}", "{0} {1} {2}", "1-{0}-{1}-{2}", "({0}){1}-{2}"),
    ),
    "MX": _Country(
        "MX", -7, ("es",), ("demo-classifieds", "demo-anuncios"), "MXN", 0.06,
        ("+52 {0} {1} {2}", "+52 {0} {1} {2}", "{0} {1} {2}", "({0}) {1} {2}", "{0}{1}{2}",
         "+52{0}{1}{2}", "{0}-{1}-{2}"),
    ),
    "ES": _Country(
        "ES", 1, ("es",) * 9 + ("en",), ("demo-classifieds", "demo-contactos"), "EUR", 0.06,
        ("+34 {0} {1} {2} {3}", "+34 {0} {1} {2} {3}", "{0} {1} {2} {3}", "{0}{1}{2}{3}",
         "+34 {0}{1}{2}{3}", "{0}-{1}-{2}-{3}"),
    ),
    "DK": _Country(
        "DK", 1, ("da",) * 3 + ("en",), ("demo-classifieds",) * 2 + ("demo-annoncer",) * 3,
        "DKK", 0.10,
        ("+45 {0} {1} {2} {3}", "+45 {0} {1} {2} {3}", "{0} {1} {2} {3}", "{0}{1}{2}{3}",
         "+45{0}{1}{2}{3}", "{0}{1} {2}{3}", "+45 {0}{1} {2}{3}"),
    ),
}  # fmt: skip
#: The country (ISO 3166-1 alpha-2) of each city, by the URL subdomain of its ads.
CITY_COUNTRY: dict[str, str] = {row[0]: row[2] for row in _CITY_ROWS}
#: Sources whose pages have an age field: the title ends in " - <age>" and the record
#: carries ``site_age``.
_AGE_FIELD_SOURCES = ("demo-classifieds",)

# Local posting hours (0-23), repeated by weight: afternoon to late night.
_HOURS = tuple(
    h
    for h, w in enumerate((5, 4, 3, 2, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 7, 8, 8, 8, 8, 7, 6))
    for _ in range(w)
)
_EVENING = tuple(h for h in _HOURS if h >= 15 or h <= 1)
_AGES = tuple(
    a for a in range(18, 46) for _ in range((2, 4, 6, 8, 8, 8, 8, 8, 6, 6, 6, 6, 4, 4, 4, 4,
                                             4, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1)[a - 18])
)  # fmt: skip
_GROUP_AGES = (*(a for a in _AGES if a <= 30), 18, 19, 19, 20, 20, 21)

# ---------------------------------------------------------------------------------
# Words. In phrases, "¤" marks a place for emoji (per poster: none, one, several);
# {slots} are filled per ad; a slot in upper case ({NAME}) is written in capitals.

_EMOJI = (
    "💋", "😘", "🔥", "💕", "❤️", "😍", "✨", "🌹", "💎", "👑", "💯", "😈", "🍒", "🌸",
    "💖", "😉", "🥰", "💜", "⭐", "🌟", "🎀", "💃", "😻", "🦋", "💗", "🌺", "😊", "👄",
)  # fmt: skip

_NAMES = {
    "en": _words(
        "Ashley Candy Diamond Jasmine Mia Kim Lexi Nikki Destiny Bella Honey Amber Crystal "
        "Star Cherry Lola Vanessa Jade Luna Roxy Kitty Brandy Paris Sky Angel Sasha Jessica "
        "Tiffany Brittany Kayla Sofia Chloe Monique Cinnamon Aaliyah Summer Autumn Heaven "
        "Precious Ruby Scarlett Raven Gigi Coco Lily Mimi Kiki Suki Yuki Mei Lucy Jenny "
        "Tina Amy Nina Vicky Daisy Stormy Kendra Alexis Madison Savannah Harmony Passion "
        "Essence Trinity Serena Carmen Bianca Adriana Natalia Layla Skylar Peaches Barbie "
        "Mocha Caramel Envy"
    ),
    "es": _words(
        "Valentina Camila Daniela Paola Lupita Karla Ximena Fernanda Marisol Yesenia "
        "Alejandra Gaby Mariana Sofía Luz Rosa Claudia Vero Lorena Dulce Esmeralda Paloma "
        "Carla Lucía Martina Julieta Andrea Isabella Naty Yuli Caro Mayra Sandra Tatiana "
        "Kenia Nayeli Brenda Diana Elena Jazmín"
    ),
    "da": _words(
        "Sofie Camilla Julie Mette Louise Line Maja Emma Nanna Sara Tina Pernille Natasha "
        "Nina Lin Mai Anna Freja Ida Cecilie Signe Katja Mia Lotte Jeanette Bianca Nok Ploy "
        "Fon Malee Lisa Tanja Sabrina Vivi Stine Rikke"
    ),
}
#: Every working name the generator writes, by language.
NAMES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _NAMES.items()}

_ETH = {
    "en": ("Latina", "Asian", "Ebony", "Blonde", "Brunette", "Exotic", "Italian",
           "Puerto Rican", "Thai", "Korean", "Colombian", "Russian", "Mixed", "Redhead",
           "Cuban", "Brazilian", "Filipina", "Japanese", "Persian", "Caramel", "Chocolate",
           "Vietnamese", "Chinese", "Dominican", "Danish", "Spanish"),
    "es": ("latina", "colombiana", "venezolana", "dominicana", "morena", "güera", "rubia",
           "mexicana", "cubana", "brasileña", "peruana", "española", "argentina", "trigueña",
           "paisa", "costeña"),
    "da": ("dansk", "thai", "brasiliansk", "spansk", "latina", "russisk", "rumænsk",
           "afrikansk", "asiatisk", "polsk", "ungarsk", "filippinsk", "italiensk", "lettisk"),
}  # fmt: skip
_BODY = {
    "en": ("petite", "curvy", "thick", "slim", "busty", "fit", "tall", "tiny", "classy",
           "athletic", "slender", "voluptuous", "sexy", "sweet", "stunning", "tanned"),
    "es": ("delgadita", "con curvas", "alta", "petite", "bien formadita", "guapísima",
           "muy linda", "chiquita", "espectacular", "sexy", "bonita", "de piel canela"),
    "da": ("slank", "kurvet", "lækker", "petite", "blond", "mørkhåret", "yppig", "høj",
           "smuk", "veltrænet", "barmfager", "solbrun"),
}  # fmt: skip

_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "title": (
            "¤ {eth} {body} {name} ¤ NEW IN {CITY}",
            "Sweet {eth} {name} ready now ¤",
            "{NAME} ¤ {body} {eth} cutie in {hood} ¤",
            "LAST NIGHT IN {CITY}!! ¤ {name} ¤",
            "Upscale {eth} companion {name} ¤ incall/outcall",
            "¤ Your new favorite {body} {eth} girl ¤",
            "Call {name} now {phone} ¤ {hood}",
            "{body} and sexy {name} ¤ available all day ¤",
            "Brand new {eth} {name} ¤ in {city} this week only",
            "Ready to play? ¤ {name} {age}yo ¤",
            "¤ {CITY} INCALL SPECIALS ¤ {name}",
            "Exotic beauty {name} ¤ {hood} ¤ Real pics",
            "Hey boys its {name} ¤ Visiting {city}",
            "{name} ¤ {phone} ¤ No rush",
            "GORGEOUS {ETH} {NAME} ¤ NEW",
            "Sexy {body} {eth} ¤ Come see me in {hood} ¤",
            "Classy {name} ¤ {eth} and {body} ¤ {city}",
        ),
        "intro": (
            "Hi gentlemen ¤ I'm {name}",
            "Hey guys its {name} ¤",
            "Hello there, my name is {name}",
            "Hiii ¤ {name} here",
            "Welcome to my page ¤ they call me {name}",
            "Hey babe ¤ I'm your girl {name}",
            "Hello gentlemen! Let me introduce myself, I'm {name}",
            "Had a long day? ¤ I'm {name}",
            "Good evening ¤ {name} here, thanks for stopping by",
        ),
        "desc": (
            "a {body} {eth} beauty with a sweet smile ¤",
            "I am a {body} {eth} girl with a bubbly personality",
            "{body} {eth} sweetheart who loves to have fun ¤",
            "Naughty but nice {eth} girl ¤ {body} and classy",
            "Im a real {body} {eth} doll ¤ pics are 100% me",
            "sweet, {body} and very open minded {eth} girl",
            "Exotic {eth} mix ¤ {body} with soft skin",
            "Classy {body} {eth} lady for the discerning gentleman",
            "{body} {eth} bombshell ¤ everything you are looking for",
        ),
        "age": (
            "{age}yo",
            "{age} years young ¤",
            "Age: {age}",
            "I'm {age} y/o",
            "{age} yrs old",
            "only {age} and full of energy ¤",
        ),
        "loc": (
            "Incall in {hood} ¤ outcall to hotels",
            "NEW IN TOWN ¤ visiting {city} for a few days only",
            "Located near {hood}, safe and discreet",
            "Outcalls anywhere in {city} ¤",
            "Incall only ¤ {hood} area",
            "In {city} this week ¤ don't miss me",
            "Hosting near {hood} ¤ clean private spot",
            "Upscale incall by {hood}",
        ),
        "vibe": (
            "No rush ¤ GFE",
            "100% real pics, what you see is what you get",
            "Available 24/7 ¤",
            "Clean, discreet and drama free ¤",
            "Upscale gentlemen only please",
            "Ask about my specials ¤",
            "Serious inquiries only ¤ no games",
            "No blocked calls, no texts asking for more pics",
            "Let me take your stress away ¤",
            "Very friendly and easy going ¤",
            "Im sweet, fun and always on time",
            "Available all night long ¤",
            "Short notice ok ¤",
            "Can host or travel to you",
            "I love to meet new people and make them smile ¤",
            "Generous gentlemen preferred ¤",
            "Couples welcome ¤",
            "Please be respectful ¤ no vulgar texts",
            "Don't be shy ¤",
        ),
        "gvibe": (
            "NEW GIRLS EVERY WEEK ¤",
            "Many beautiful girls to choose from ¤",
            "2 girl special available ¤",
            "Friendly girls ¤ walk ins welcome",
            "Ask for {name} or her friends ¤",
            "Open late ¤ 7 days a week",
            "Only here for a short time ¤ call now",
        ),
        "contact": (
            "Call or text {phone} anytime ¤",
            "Text me ¤ {phone} ¤ no calls",
            "☎️ {phone} ☎️ call now",
            "Txt only {phone} no calls please",
            "Call {name} now at {phone} ¤ thank you",
            "Contact: {phone} for appointments",
            "Call me {phone} to set up a date",
            "Call/text ¤ {phone} for fun",
            "My number {phone} ask for {name}",
        ),
        "contact2": (
            "Call {phone} or text {phone2} ¤ anytime",
            "Main line {phone} ¤ backup {phone2} if no answer",
        ),
        "email": ("Email me {email} ¤", "Email: {email} for screening", "Prefer email? {email} ¤"),
        "ig": ("IG: {handle} ¤", "Follow me on insta {handle} for more"),
        "sc": ("Snap: {handle} ¤", "add my snapchat {handle} babe"),
        "kik": ("kik me {handle} ¤", "Kik: {handle} for pics"),
        "agency": (
            "Bookings and verification call {agency} anytime",
            "Ad posted by my booking agent {agency} text only",
            "Screening through my agency {agency} first please",
        ),
        "photo": ("Pics by " + _PHOTOGRAPHER + " ¤", "Photos: " + _PHOTOGRAPHER),
        "close": (
            "See you soon ¤",
            "xoxo {name}",
            "Don't miss out!! ¤",
            "Kisses ¤",
            "Can't wait to meet you ¤",
            "Let's have some fun ¤",
        ),
    },
    "es": {
        "title": (
            "¤ {eth} {body} recién llegada a {city} ¤",
            "Hola papi soy {name} ¤ {eth} muy cariñosa",
            "{NAME} ¤ NUEVA EN {CITY} ¤",
            "Chica {eth} {body} ¤ {hood} ¤",
            "{name} ¤ {eth} complaciente las 24 horas",
            "{name} ¤ {phone} ¤ solo hoy",
            "¤ Guapa {eth} en {city} ¤ te espero",
            "Bonita {eth} {name} ¤ ven a conocerme",
            "{name} {age} añitos ¤ {body} y discreta",
            "RICA {ETH} EN {HOOD} ¤ {NAME}",
        ),
        "intro": (
            "Hola amor soy {name} ¤",
            "Hola caballeros ¤ me llamo {name}",
            "Holaa papi, soy {name}",
            "Hola mi vida ¤ aquí {name} para ti",
            "Buenas noches, soy {name} ¤",
            "Hola cariño, soy {name} ¤",
        ),
        "desc": (
            "soy una {eth} {body} muy cariñosa y complaciente ¤",
            "chica {eth} recién llegada, {body} y discreta",
            "{eth} {body} con carita de ángel ¤",
            "guapa {eth}, educada y muy simpática ¤",
            "una {eth} {body} que te va a encantar ¤",
        ),
        "age": ("tengo {age} años", "{age} añitos ¤", "Edad: {age}", "{age} años ¤"),
        "loc": (
            "atiendo en mi privado en {hood} ¤",
            "servicio a hotel y domicilio en {city}",
            "zona {hood} ¤ lugar limpio y seguro",
            "nueva en {city} ¤ solo por unos días",
            "salidas a hotel en {city} ¤",
            "piso discreto en {hood} ¤",
            "estoy por {hood} ¤ cerca del centro",
        ),
        "vibe": (
            "trato de novia ¤",
            "sin prisas ¤",
            "fotos 100% reales ¤",
            "muy limpia y discreta",
            "solo caballeros educados ¤",
            "disponible 24 hrs ¤",
            "ven a relajarte conmigo ¤",
            "no contesto números privados",
            "no te vas a arrepentir ¤",
            "me encanta consentir a mis clientes ¤",
            "ambiente discreto y tranquilo ¤",
            "hablo poquito inglés ¤",
            "higiene y discreción ¤",
            "pregunta por mis promociones ¤",
        ),
        "gvibe": (
            "chicas nuevas cada semana ¤",
            "varias chicas para elegir ¤",
            "promoción 2 chicas ¤",
            "abierto todos los días ¤",
            "pregunta por {name} o sus amigas ¤",
        ),
        "contact": (
            "llámame al {phone} ¤ ahora",
            "mándame mensaje al {phone} papi",
            "WhatsApp {phone} ¤ disponible",
            "solo llamadas {phone} no mensajes",
            "yamame {phone} papi ¤",
            "escríbeme por whatsapp ¤ {phone} te contesto",
            "Citas al {phone} ¤ sin número privado",
            "Tel {phone} ¤ llama ya",
        ),
        "contact2": ("llama al {phone} o al {phone2} ¤ gracias",),
        "email": ("correo: {email} ¤", "escríbeme a {email} ¤"),
        "ig": ("IG: {handle} ¤", "sígueme en insta {handle} ¤"),
        "sc": ("snap {handle} ¤", "mi snap: {handle} ¤"),
        "kik": ("kik {handle} ¤",),
        "close": ("te espero ¤", "besitos ¤", "anímate papi ¤", "besos {name}",
                  "no pierdas la oportunidad ¤", "un beso ¤"),
    },
    "da": {
        "title": (
            "¤ Ny {eth} pige i {city} ¤ {name}",
            "{NAME} ¤ {body} og sød ¤ {hood}",
            "Lækker {eth} {name} ¤ kun få dage",
            "Sød pige {name} ¤ massage og hygge",
            "¤ {name} {age} år ¤ ny i byen",
            "{name} ¤ ring {phone} ¤ {city}",
            "NY I {CITY} ¤ {NAME} ¤",
            "{name} ¤ {body} {eth} pige ¤ {hood}",
        ),
        "intro": (
            "Hej søde mand ¤ jeg hedder {name}",
            "Hej med dig, {name} her ¤",
            "Hejsa ¤ mit navn er {name}",
            "Kære herre, jeg er {name} ¤",
            "Velkommen til min annonce ¤ jeg er {name}",
        ),
        "desc": (
            "{body} {eth} pige med et dejligt smil ¤",
            "Jeg er en {body} og sød {eth} pige",
            "{eth} skønhed, {body} og diskret ¤",
            "Sød og imødekommende {eth} pige ¤",
            "Ny {eth} pige i byen, {body} og charmerende",
        ),
        "age": ("{age} år", "Alder: {age}", "Jeg er {age} år ¤", "{age} år ung ¤"),
        "loc": (
            "Diskret lejlighed i {hood} ¤",
            "Privat og diskret adresse tæt på {hood}",
            "Kommer også ud til hotel i {city} ¤",
            "Ny i {city} kun denne uge ¤",
            "Gratis parkering lige ved døren ¤",
            "Tæt på {hood} station ¤",
        ),
        "vibe": (
            "Massage og hygge ¤",
            "Ingen stress, masser af tid ¤",
            "Ægte billeder 100%",
            "Jeg taler engelsk ¤",
            "Diskret og renlig ¤",
            "Kun seriøse herrer ¤",
            "Ring ikke fra skjult nummer ¤",
            "Åben hele ugen ¤",
            "Du er velkommen til at ringe ¤",
            "Bruser og håndklæder til rådighed ¤",
            "Jeg glæder mig til at møde dig ¤",
        ),
        "gvibe": (
            "Nye piger hver uge ¤",
            "Flere søde piger at vælge imellem ¤",
            "Åbent alle dage fra morgen til aften ¤",
            "Spørg efter {name} eller hendes veninde ¤",
        ),
        "contact": (
            "Ring eller sms {phone} ¤ tak",
            "Ring på {phone} hele dagen",
            "SMS {phone} og skriv dit navn",
            "Kun sms på {phone} tak",
            "Tlf {phone} ring nu",
            "Ring til {name} på {phone} i dag ¤",
        ),
        "contact2": ("Ring {phone} eller {phone2} ¤ tak",),
        "email": ("Mail: {email} ¤", "Skriv til {email} ¤"),
        "ig": ("Insta: {handle} ¤",),
        "sc": ("Snap: {handle} ¤",),
        "kik": ("Kik: {handle} ¤",),
        "close": ("Kys og kram ¤", "Vi ses ¤", "Knus {name}", "Ring nu ¤", "Hilsen {name} ¤",
                  "Kys fra {name} ¤"),
    },
}  # fmt: skip

_RATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "USD"): (
        "${hh}/hh ${hr}/hr",
        "qv {qv} hh {hh} hr {hr} roses",
        "{hr} roses hr ¤ no haggling",
        "Specials: qv {qv} ¤ hh {hh}",
        "Donations ${hh} half hour ${hr} full hour",
        "{hh} hhr / {hr} hr ¤ specials all day",
        "Incall rates ${qv} qv ¤ ${hh} hh ¤ ${hr} hr",
        "Ask about my ${qv} specials ¤",
    ),
    ("en", "EUR"): ("{hr}€ per hour ¤", "30 min {hh}€ / 1 hour {hr}€"),
    ("en", "DKK"): ("{hr} kr per hour ¤", "30 min {hh} kr ¤ 1 hour {hr} kr"),
    ("es", "USD"): (
        "{hh} media hora ¤ {hr} la hora",
        "${hr} la hora ¤",
        "rapidito {qv} ¤ media hora {hh}",
        "donación ${hh} media hora",
        "{hr} la hora sin prisas ¤",
    ),
    ("es", "MXN"): (
        "${hr} pesos la hora ¤",
        "media hora ${hh} ¤ hora ${hr}",
        "{hr} la hora ¤ pregunta por promos",
        "rapidito ${qv} ¤ hora ${hr}",
    ),
    ("es", "EUR"): (
        "{hh}€ media hora ¤ {hr}€ la hora",
        "{hr} € la hora ¤",
        "Media hora {hh}€ ¤ salidas a consultar",
        "20 min {qv}€ ¤ media hora {hh}€",
    ),
    ("da", "DKK"): (
        "{hr} kr/time ¤",
        "½ time {hh} kr ¤ 1 time {hr} kr",
        "{hh},- for 30 min ¤",
        "Pris: {hr} kr pr. time",
        "Massage {hh} kr ¤ hel time {hr} kr",
    ),
}
# (quick visit, half hour, hour) choices per currency; hour = half hour + a step.
_PRICES: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "USD": ((60, 70, 80, 100), (100, 120, 140, 150, 160, 180, 200), (60, 80, 100, 120, 150)),
    "EUR": ((40, 50, 60), (60, 70, 80, 100, 120), (40, 50, 60, 80)),
    "MXN": ((500, 600, 700, 800), (800, 1000, 1200, 1500), (500, 700, 1000)),
    "DKK": ((500, 600, 700), (800, 900, 1000, 1100, 1200), (300, 400, 500, 700)),
}
# Chat spelling, applied to a poster's literal text (not to slot values).
_SLANG = {
    "en": ((" you ", " u "), (" your ", " ur "), ("please", "plz"), (" are ", " r "),
           ("I'm", "Im"), ("available", "availble"), ("gentlemen", "gentelmen"),
           ("specials", "specails")),
    "es": (("que ", "q "), ("por favor", "xfa"), ("para ", "pa "), ("llámame", "yamame"),
           ("mensaje", "msj"), ("también", "tmb"), ("hora", "ora")),
    "da": ((" ikke", " ik"), ("nummer", "nr."), (" og ", " & "), ("Jeg ", "Jg "),
           ("søde", "søe")),
}  # fmt: skip

_DIGIT_WORDS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "da": ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni"),
}
_CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
_NEG_CIRCLED = "⓿➊➋➌➍➎➏➐➑➒"  # dingbat negative circled sans-serif
_NEG_CIRCLED2 = "⓿❶❷❸❹❺❻❼❽❾"  # dingbat negative circled
_FULLWIDTH = "０１２３４５６７８９"
_KEYCAP = tuple(f"{d}\ufe0f\u20e3" for d in range(10))
_OBF_STYLES = {
    "en": ("spelled", "spelled", "mixed", "mixed", "lookalike", "lookalike", "keycap",
           "circled", "negcircled", "fullwidth", "separated", "spaced"),
    "es": ("spelled", "spelled", "spelled", "mixed", "lookalike", "keycap", "circled",
           "negcircled", "fullwidth", "separated", "spaced"),
    "da": ("spelled", "spelled", "spelled", "mixed", "lookalike", "keycap", "circled",
           "negcircled", "fullwidth", "separated", "spaced"),
}  # fmt: skip

_ZERO_ONE = re.compile("[01]")
_SLOT_RE = re.compile(r"(\{[A-Za-z0-9]+\})")
_SPACES_RE = re.compile(r"[ ]{2,}")
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_UPPER_SLOT = {"{name}": "{NAME}", "{city}": "{CITY}", "{hood}": "{HOOD}",
               "{eth}": "{ETH}", "{body}": "{BODY}"}  # fmt: skip
_JOINERS = (" ", " ", " ", "\n", "\n", "\n\n", "  ", ". ", " ~ ")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class _Phone:
    country: str
    digits: str  # national significant number
    groups: tuple[str, ...]  # the digit groups it is written in


@dataclass(slots=True)
class _Text:
    """One poster's wording or one group's Template: format strings with {slots}."""

    title: str
    parts: tuple[str, ...]  # body sentences
    joiner: str
    body: str  # joiner.join(parts)
    contact: int  # index of the sentence with the phone (never dropped)
    two: bool  # whether it writes a second phone


@dataclass(slots=True, eq=False)
class _Girl:
    pid: str
    names: tuple[str, ...]  # working names, the first used most
    age: int
    slots: dict[str, str]  # slot values that never change: age, words, prices


@dataclass(slots=True, eq=False)
class _Pending:
    """An independent poster before her first ad in the corpus (warm-up: maybe never)."""

    country: _Country
    left: int


@dataclass(slots=True, eq=False)
class _Independent:
    girl: _Girl
    country: _Country
    lang: str
    cities: tuple[_City, ...]
    hoods: tuple[str, ...]  # her usual place in each city
    phones: list[_Phone]
    sources: tuple[str, ...]
    extras: tuple[str, ...]  # phrase kinds beyond the usual (see _compose)
    slots: dict[str, str]  # the slot values that do not change between her ads
    fmt: str  # her habitual way of writing a phone
    p_obf: float
    left: int
    text: _Text | None = None  # drawn at her first ad in the corpus


@dataclass(slots=True, eq=False)
class _Group:
    gid: str
    country: _Country
    lang: str
    girls: tuple[_Girl, ...]
    phones: list[_Phone]
    templates: tuple[_Text, ...]
    circuit: tuple[_City, ...]
    sources: tuple[str, ...]
    email: str
    fmt: str
    p_obf: float
    left: int
    city_i: int = 0
    move_at: int = 0
    burst: tuple[_Girl, ...] = ()


class _Rng(random.Random):
    """``random.Random`` with cheaper ``choice``, ``randint`` and one-argument ``randrange``.

    They read one ``random()`` float (53 bits) instead of rejection-sampling bits: the
    bias is far below anything a corpus could show, and they cost half as much.
    Deterministic for a seed, like the base class.
    """

    def choice(self, seq: Sequence[_T]) -> _T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return super().randrange(start, stop, step)


class _PhonePool:
    """Fictional numbers of one country: unused first, then least recently released."""

    def __init__(self, country: str, blocks: tuple[str, ...], rng: _Rng) -> None:
        self.country = country
        self.rng = rng
        self.prefixes = blocks
        self.order = list(self.prefixes)
        rng.shuffle(self.order)
        self.pos = 0  # prefixes before it in self.order have no unused number left
        self.fresh: dict[str, list[int]] = {}
        self.released: deque[_Phone] = deque()
        self.reserved = {_AGENCY_PHONE}

    def _take(self, prefix: str) -> _Phone | None:
        lines = self.fresh.get(prefix)
        if lines is None:
            lines = list(range(100))
            self.rng.shuffle(lines)
            self.fresh[prefix] = lines
        while lines:
            digits = f"{prefix}{lines.pop():02d}"
            if digits not in self.reserved:
                return _Phone(self.country, digits, _groups(self.country, digits))
        return None

    def allocate(self, local: tuple[str, ...]) -> _Phone:
        """A number for a new poster; ``local``: prefixes of her city, tried first."""
        rng = self.rng
        if local and rng.random() < _P_LOCAL_NUMBER:
            k = len(local)
            first = rng.randrange(k)
            for i in range(k):
                phone = self._take(local[(first + i) % k])
                if phone is not None:
                    return phone
        phone = self._take(rng.choice(self.prefixes))
        while phone is None and self.pos < len(self.order):
            phone = self._take(self.order[self.pos])
            if phone is None:
                self.pos += 1
        if phone is not None:
            return phone
        if self.released:
            return self.released.popleft()
        prefix = rng.choice(self.prefixes)  # everything in use: share one
        digits = f"{prefix}{rng.randrange(100):02d}"
        return _Phone(self.country, digits, _groups(self.country, digits))

    def release(self, phone: _Phone) -> None:
        self.released.append(phone)


def _literal(fmt: str, fn: Callable[[str], str], upper_slots: bool = False) -> str:
    """Apply ``fn`` to the literal text of a format string, leaving {slots} intact."""
    pieces = _SLOT_RE.split(fmt)
    for i in range(0, len(pieces), 2):
        pieces[i] = fn(pieces[i])
    if upper_slots:
        for i in range(1, len(pieces), 2):
            pieces[i] = _UPPER_SLOT.get(pieces[i], pieces[i])
    return "".join(pieces)


class _Corpus:
    """The simulation: actors arrive over time and post; events come out in time order."""

    def __init__(self, n_ads: int, seed: int, start: datetime) -> None:
        self.n_ads = n_ads
        self.rng = _Rng(seed)
        self.base_min = int(start.timestamp()) // 60  # minutes since 1970, UTC
        self.base_sec = int(start.timestamp()) % 60
        self.cities: dict[str, list[_City]] = {c: [] for c in _COUNTRIES}
        for key, name, cc, local, weight, hoods in _CITY_ROWS:
            prefixes = tuple(b for a in local for b in _blocks(cc, str(a)))
            self.cities[cc].append(_City(key, name, cc, prefixes, weight, hoods))
        # Weighted draws as uniform draws from lists with repeats.
        self.city_draw = {
            cc: tuple(c for c in v for _ in range(c.weight)) for cc, v in self.cities.items()
        }
        self.country_draw = tuple(
            c for c in _COUNTRIES.values() for _ in range(round(c.weight * 100))
        )
        self.pools = {cc: _PhonePool(cc, _BLOCKS[cc], self.rng) for cc in _COUNTRIES}
        self.agency = _Phone("US", _AGENCY_PHONE, _groups("US", _AGENCY_PHONE))
        self.n_posters = 0
        self.n_groups = 0
        self.n_contacts = 100  # e-mail and handle numbers; below 100 is reserved
        sources = (
            "demo-classifieds",
            "demo-escorts",
            "demo-anuncios",
            "demo-contactos",
            "demo-annoncer",
        )
        self.post_no = {s: 100_000_000 + 7_000_000 * i for i, s in enumerate(sources)}
        self.dates: dict[int, str] = {}
        self.emitted = 0
        # An independent poster's sites: mostly her own, sometimes another of her country.
        self.source_draws = {
            cc: tuple(
                (s,) * 9 + (tuple(o for o in c.sources if o != s)[:1] or (s,)) for s in c.sources
            )
            for cc, c in _COUNTRIES.items()
        }
        self.styles: dict[str, list[list[str]]] = {}  # phrase -> banks by level and case
        # A small corpus gets small groups, so that it still holds several of them.
        self.group_cap = max(24, n_ads // 12)
        # Ads per minute that newly arrived groups and independents take on, so that
        # the steady state posts n_ads over SPAN_DAYS with the intended group share.
        rate = n_ads / (SPAN_DAYS * 1440)
        self.group_rate = rate * _GROUP_AD_SHARE
        self.ind_rate = rate - self.group_rate

    # -- time ------------------------------------------------------------------------

    def _local_time(self, t: int, tz: int, days_ahead: int, hours: tuple[int, ...]) -> int:
        """A minute ``days_ahead`` local days after the one holding ``t``, at a usual hour.

        Never earlier than ``t``.
        """
        offset = self.base_min + tz * 60
        day = (t + offset) // 1440 + days_ahead
        rng = self.rng
        new = day * 1440 + rng.choice(hours) * 60 + rng.randrange(60) - offset
        while new < t:
            new += 1440
        return new

    def _stamp(self, t: int) -> str:
        """ISO-8601 UTC of minute ``t`` (relative to start)."""
        m = self.base_min + t
        day, mod = divmod(m, 1440)
        d = self.dates.get(day)
        if d is None:
            d = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
            self.dates[day] = d
        return f"{d}T{mod // 60:02d}:{mod % 60:02d}:{self.base_sec:02d}Z"

    # -- people ----------------------------------------------------------------------

    def _girl(
        self, lang: str, currency: str, ages: tuple[int, ...], name: str | None = None
    ) -> _Girl:
        rng = self.rng
        self.n_posters += 1
        names = NAMES[lang]
        if name is None:
            name = rng.choice(names)
        alias = (name,) if rng.random() < 0.85 else (name, rng.choice(names))
        qv, hh, step = _PRICES[currency]
        half = rng.choice(hh)
        rates = (str(rng.choice(qv)), str(half), str(half + rng.choice(step)))
        age = rng.choice(ages)
        eth = rng.choice(_ETH[lang])
        body = rng.choice(_BODY[lang])
        slots = {
            "age": str(age), "eth": eth, "ETH": eth.upper(), "body": body, "BODY": body.upper(),
            "qv": rates[0], "hh": rates[1], "hr": rates[2],
        }  # fmt: skip
        return _Girl(f"p{self.n_posters:06d}", alias, age, slots)

    def _city(self, country: str) -> _City:
        return self.rng.choice(self.city_draw[country])

    def _contact_number(self) -> int:
        self.n_contacts += 1 + self.rng.randrange(5)
        return self.n_contacts

    def _email(self) -> str:
        rng = self.rng
        user = f"user{self._contact_number()}"
        tld = rng.choice(("com", "com", "org", "net"))
        r = rng.random()
        if r < 0.7:
            return f"{user}@example.{tld}"
        if r < 0.85:
            return f"{user} at example dot {tld}"
        return f"{user}(at)example(dot){tld}"

    def _handle(self, platform: str, name: str) -> str:
        n = self._contact_number()
        if self.rng.random() < 0.7:
            return f"@{platform}_user{n:04d}"
        ascii_name = name.lower().encode("ascii", "ignore").decode() or "girl"
        return f"{ascii_name}_demo{n}"

    # -- wording ---------------------------------------------------------------------

    def _styled(self, phrase: str, level: int, case: int) -> str:
        """``phrase`` with emoji at ``level`` (0 none, 1 one, 2 several) in ``case`` (0 as
        written, 1 capitals, 2 lower case).

        Draws from a bank of a few variants per (phrase, level, case), filled as needed,
        which is much cheaper than drawing each poster's emoji afresh.
        """
        banks = self.styles.get(phrase)
        if banks is None:
            banks = self.styles[phrase] = [[] for _ in range(9)]
        bank = banks[3 * level + case]
        if len(bank) >= _STYLE_VARIANTS:
            return bank[int(self.rng.random() * _STYLE_VARIANTS)]
        if case == 1:
            phrase = _literal(phrase, str.upper, upper_slots=True)
        elif case == 2:
            phrase = _literal(phrase, str.lower)
        styled = self._emojify(phrase, level)
        bank.append(styled)
        return styled

    def _emojify(self, s: str, level: int) -> str:
        if "¤" not in s:
            return s
        rng = self.rng
        pieces = s.split("¤")
        out = [pieces[0]]
        for piece in pieces[1:]:
            if level == 0:
                out.append("!" if rng.random() < 0.2 else "")
            elif level == 1:
                out.append(rng.choice(_EMOJI))
            else:
                e = rng.choice(_EMOJI)
                out.append(e * rng.randint(1, 3) + rng.choice(_EMOJI) * rng.randint(0, 1))
            out.append(piece)
        return _SPACES_RE.sub(" ", "".join(out)).strip()

    def _typo(self, s: str) -> str:
        """One typo (swap, drop or double a letter) in a word of ``s``, never in a slot."""
        rng = self.rng
        words = s.split(" ")
        for _ in range(3):  # a few tries to land on a plain word of 4+ letters
            k = rng.randrange(len(words))
            w = words[k]
            if len(w) >= 4 and w.isalpha():
                break
        else:
            return s
        i = rng.randrange(len(w) - 2) + 1
        op = rng.randrange(3)
        if op == 0:
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]  # swap
        elif op == 1:
            w = w[:i] + w[i + 1 :]  # drop
        else:
            w = w[:i] + w[i] + w[i:]  # double
        words[k] = w
        return " ".join(words)

    def _compose(
        self,
        lang: str,
        currency: str,
        *,
        group: bool,
        n_phones: int,
        extras: tuple[str, ...],
    ) -> _Text:
        """Draw one poster's wording (or one group's Template) as format strings.

        ``extras``: phrase kinds to add (``email``, ``ig``, ``sc``, ``kik``, ``agency``,
        ``photo``).
        """
        rng = self.rng
        ph = _PHRASES[lang]
        parts: list[str] = []
        if rng.random() < 0.8:
            parts.append(rng.choice(ph["intro"]))
        if rng.random() < 0.9:
            parts.append(rng.choice(ph["desc"]))
        if rng.random() < 0.75:
            parts.append(rng.choice(ph["age"]))
        if rng.random() < 0.85:
            parts.append(rng.choice(ph["loc"]))
        vibe = ph["vibe"]
        first = rng.randrange(len(vibe))
        for i in range(rng.randint(1, 3)):  # one to three different ones
            parts.append(vibe[(first + 5 * i) % len(vibe)])
        if group and rng.random() < 0.7:
            parts.append(rng.choice(ph["gvibe"]))
        if rng.random() < 0.8:
            parts.append(rng.choice(_RATES[(lang, currency)]))
        two = group and n_phones >= 2 and rng.random() < 0.35
        contact_i = len(parts) if rng.random() < 0.8 else rng.randrange(len(parts) + 1)
        parts.insert(contact_i, rng.choice(ph["contact2" if two else "contact"]))
        for kind in extras:
            parts.append(rng.choice(ph[kind]))
        if rng.random() < 0.6:
            parts.append(rng.choice(ph["close"]))
        title = rng.choice(ph["title"])

        # The poster's hand: emoji, capitals, chat spelling, typos.
        level = rng.choice((0, 1, 1, 1, 2, 2))
        lower = rng.random() < 0.12
        slang = _SLANG[lang] if rng.random() < 0.25 else ()
        n_typos = rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
        styled: list[str] = []
        for i, part in enumerate([title, *parts]):
            case = 2 if lower else 1 if rng.random() < (0.3 if i == 0 else 0.1) else 0
            part = self._styled(part, level, case)
            for old, new in slang:
                if old in part:
                    part = part.replace(old, new)
            styled.append(part)
        for _ in range(n_typos):
            i = rng.randrange(len(styled))
            if i != contact_i + 1:  # keep the phone sentence readable
                styled[i] = self._typo(styled[i])
        joiner = rng.choice(_JOINERS)
        body_parts = tuple(styled[1:])
        return _Text(styled[0], body_parts, joiner, joiner.join(body_parts), contact_i, two)

    # -- phones ----------------------------------------------------------------------

    def _phone_text(self, phone: _Phone, fmt: str, p_obf: float, lang: str) -> str:
        """How this ad writes ``phone``: the poster's habit, another plain form, or hidden."""
        rng = self.rng
        r = rng.random()
        if r < p_obf:
            return self._obfuscate(phone, lang)
        if r < 0.8:
            return fmt.format(*phone.groups)
        return rng.choice(_COUNTRIES[phone.country].plain).format(*phone.groups)

    def _obfuscate(self, phone: _Phone, lang: str) -> str:
        rng = self.rng
        groups = phone.groups
        style = rng.choice(_OBF_STYLES[lang])
        if style == "lookalike" and max(map(len, _ZERO_ONE.split(phone.digits))) > 5:
            style = "mixed"  # too few 0s and 1s: the other digits would still read plainly
        words = _DIGIT_WORDS[lang]
        if style == "spelled":
            zero = "oh" if lang == "en" and rng.random() < 0.3 else words[0]
            case = rng.choice((str.lower, str.lower, str.title, str.upper))
            inner = rng.choice((" ", " ", "-", ""))
            outer = rng.choice((" ", "  ", " - ", ", "))
            return outer.join(
                inner.join(case(zero if c == "0" else words[int(c)]) for c in g) for g in groups
            )
        if style == "mixed":
            out, i = [], 0
            for g in groups:
                chunk = []
                for c in g:
                    # Every third digit at least is not a plain digit, so no plain
                    # pattern can read the number.
                    if i % 3 == 1 or rng.random() < 0.3:
                        if c == "0" and rng.random() < 0.5:
                            chunk.append(rng.choice("Oo"))
                        else:
                            chunk.append(words[int(c)])
                    else:
                        chunk.append(c)
                    i += 1
                out.append("".join(chunk))
            return " ".join(out)
        if style == "lookalike":
            table = str.maketrans({"0": rng.choice("Oo"), "1": rng.choice("lI")})
            return rng.choice(("-", " ", ".")).join(g.translate(table) for g in groups)
        if style == "keycap":
            sep = rng.choice(("", " "))
            return sep.join("".join(_KEYCAP[int(c)] for c in g) for g in groups)
        if style in ("circled", "negcircled", "fullwidth"):
            glyphs = {"circled": _CIRCLED, "fullwidth": _FULLWIDTH}.get(
                style, rng.choice((_NEG_CIRCLED, _NEG_CIRCLED2))
            )
            sep = rng.choice(("", " ", "-")) if style == "fullwidth" else rng.choice(("", " "))
            return sep.join("".join(glyphs[int(c)] for c in g) for g in groups)
        if style == "separated":
            sep = rng.choice(("•", "*", "_", " • ", "*", "-*-"))
            return sep.join(phone.digits)
        return " ".join(phone.digits)  # spaced

    # -- actors ----------------------------------------------------------------------

    def _new_independent(self, country: _Country, left: int) -> _Independent:
        rng = self.rng
        cc = country.code
        lang = rng.choice(country.langs)
        girl = self._girl(lang, country.currency, _AGES)
        home = self._city(cc)
        cities: tuple[_City, ...] = (home,)
        if rng.random() < 0.06:
            other = self._city(cc)
            if other is not home:
                cities = (home, other)
        pool = self.pools[cc]
        phones = [pool.allocate(home.prefixes)]
        if rng.random() < 0.05:
            phones.append(pool.allocate(home.prefixes))
        extras: list[str] = []
        email = ""
        handle = ""
        if rng.random() < 0.08:
            extras.append("email")
            email = self._email()
        if rng.random() < 0.15:
            platform = rng.choice(("ig", "ig", "sc", "kik"))
            extras.append(platform)
            handle = self._handle(platform, girl.names[0])
        if cc == "US" and lang == "en":
            if rng.random() < _P_AGENCY:
                extras.append("agency")
            if rng.random() < _P_PHOTOGRAPHER:
                extras.append("photo")
        sources = rng.choice(self.source_draws[cc])
        slots = {**girl.slots, "name": girl.names[0], "email": email, "handle": handle}
        p_obf = _P_OBF_HIGH if rng.random() < _P_OBF_HIGH_SHARE else _P_OBF_LOW
        return _Independent(
            girl=girl,
            country=country,
            lang=lang,
            cities=cities,
            hoods=tuple(rng.choice(c.hoods) for c in cities),
            phones=phones,
            sources=sources,
            extras=tuple(extras),
            slots=slots,
            fmt=rng.choice(country.plain),
            p_obf=p_obf,
            left=left,
        )

    def _new_group(self, t: int) -> _Group:
        rng = self.rng
        country = rng.choice(self.country_draw)
        cc = country.code
        lang = rng.choice(country.langs)
        self.n_groups += 1
        girls = tuple(  # each with her own first working name
            self._girl(lang, country.currency, _GROUP_AGES, name)
            for name in rng.sample(NAMES[lang], rng.randint(*_GIRLS))
        )
        circuit: list[_City] = []
        for _ in range(rng.randint(2, 5)):
            city = self._city(cc)
            if city not in circuit:
                circuit.append(city)
        if len(circuit) < 2:  # a group moves: make sure it has somewhere to go
            circuit.append(rng.choice([c for c in self.cities[cc] if c is not circuit[0]]))
        pool = self.pools[cc]
        phones = [pool.allocate(circuit[0].prefixes) for _ in range(rng.randint(1, 4))]
        extras: tuple[str, ...] = ("email",) if rng.random() < 0.1 else ()
        templates = tuple(
            self._compose(lang, country.currency, group=True, n_phones=len(phones), extras=extras)
            for _ in range(rng.choice((1, 1, 2, 2, 3)))
        )
        sources = tuple(rng.sample(country.sources, min(2, len(country.sources))))
        p_obf = _P_OBF_HIGH if rng.random() < _P_OBF_HIGH_SHARE else _P_OBF_LOW
        ads = min(self.group_cap, sum(rng.randint(*_ADS_PER_GIRL) for _ in girls))
        return _Group(
            gid=f"g{self.n_groups:05d}",
            country=country,
            lang=lang,
            girls=girls,
            phones=phones,
            templates=templates,
            circuit=tuple(circuit),
            sources=sources,
            email=self._email() if extras else "",
            fmt=rng.choice(country.plain),
            p_obf=p_obf,
            left=ads,
            move_at=t + rng.randint(5, 21) * 1440,
        )

    # -- ads -------------------------------------------------------------------------

    def _record(
        self,
        t: int,
        source: str,
        city: _City,
        hood: str,
        text: _Text,
        body_fmt: str,
        slots: dict[str, str],
        girl: _Girl,
        gid: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        title = text.title.format_map(slots)
        body = body_fmt.format_map(slots)
        n = self.post_no[source] + rng.randint(1, 40)
        self.post_no[source] = n
        slug = _SLUG_RE.sub("-", title.lower()).strip("-")[:70].rstrip("-") or "ad"
        r = rng.random()
        if r < 0.4:
            location = f"{hood}, {city.name}"
        elif r < 0.7:
            location = f"{city.name}, {hood}"
        elif r < 0.85:
            location = city.name
        else:
            location = f"{city.name} ({hood})"
        ad_id = f"demo-{self.emitted + 1:07d}"
        record: dict[str, Any] = {
            "id": ad_id,
            "source": source,
            "title": title,
            "body": body,
            "url": f"http://{city.key}.{source}.example/escorts/{slug}/{n}",
            "location": location,
            "posted_at": self._stamp(t),
            "images": [],
        }
        if source in _AGE_FIELD_SOURCES:
            age = girl.age if rng.random() < 0.97 else max(18, girl.age - rng.randint(1, 4))
            record["title"] = f"{title} - {age}"
            record["site_age"] = age
        return record, {"ad_id": ad_id, "poster": girl.pid, "group": gid}

    def _independent_ad(self, a: _Independent, t: int) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        i = 0 if len(a.cities) == 1 or rng.random() < 0.6 else 1
        city = a.cities[i]
        hood = a.hoods[i] if rng.random() < 0.8 else rng.choice(city.hoods)
        slots = dict(a.slots)
        if len(a.girl.names) > 1 and rng.random() < 0.3:
            slots["name"] = a.girl.names[1]
        phone = a.phones[0] if len(a.phones) == 1 or rng.random() < 0.7 else a.phones[1]
        slots["phone"] = self._phone_text(phone, a.fmt, a.p_obf, a.lang)
        slots["NAME"] = slots["name"].upper()
        slots["city"], slots["CITY"] = city.name, city.name.upper()
        slots["hood"], slots["HOOD"] = hood, hood.upper()
        if "agency" in a.extras:
            slots["agency"] = self._phone_text(self.agency, a.fmt, 0.0, a.lang)
        text = a.text
        if text is None:
            text = a.text = self._compose(
                a.lang,
                a.country.currency,
                group=False,
                n_phones=len(a.phones),
                extras=a.extras,
            )
        body_fmt = text.body
        if len(text.parts) > 3 and rng.random() < 0.15:  # a small edit on a repost
            body_fmt = self._drop_one(text)
        source = rng.choice(a.sources)
        return self._record(t, source, city, hood, text, body_fmt, slots, a.girl, None)

    def _drop_one(self, text: _Text) -> str:
        i = self.rng.randrange(len(text.parts))
        if i == text.contact:
            return text.body
        return text.joiner.join(text.parts[:i] + text.parts[i + 1 :])

    def _group_ad(self, g: _Group, t: int, girl: _Girl) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        city = g.circuit[g.city_i]
        hood = rng.choice(city.hoods)
        text = g.templates[0] if rng.random() < 0.6 else rng.choice(g.templates)
        phones = g.phones
        k = len(phones)
        phone = phones[g.city_i % k] if rng.random() < 0.7 else rng.choice(phones)
        phone2 = phones[(phones.index(phone) + 1) % k] if text.two else phone
        name = girl.names[0] if len(girl.names) == 1 or rng.random() < 0.7 else girl.names[1]
        p_obf = g.p_obf
        slots = dict(girl.slots)
        slots["name"], slots["NAME"] = name, name.upper()
        slots["city"], slots["CITY"] = city.name, city.name.upper()
        slots["hood"], slots["HOOD"] = hood, hood.upper()
        slots["phone"] = self._phone_text(phone, g.fmt, p_obf, g.lang)
        if text.two:
            slots["phone2"] = self._phone_text(phone2, g.fmt, p_obf, g.lang)
        slots["email"] = g.email
        body_fmt = text.body
        if len(text.parts) > 3 and rng.random() < 0.3:
            body_fmt = self._drop_one(text)
        source = rng.choice(g.sources)
        return self._record(t, source, city, hood, text, body_fmt, slots, girl, g.gid)

    # -- the clock -------------------------------------------------------------------

    def run(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """The ads, in time order: a heap of each active actor's next ad."""
        rng = self.rng
        heap: list[tuple[int, int, _Pending | _Independent | _Group]] = []
        seq = 0
        # Two streams of arrivals, each paced by the ads its newcomers will post (the
        # gap after one is her quota over the stream's rate, jittered), so that a
        # corpus holds its share of group ads and spans its months with little spread.
        next_ind = next_grp = -_WARMUP_DAYS * 1440.0
        while self.emitted < self.n_ads:
            next_arrival = min(next_ind, next_grp)
            if not heap or heap[0][0] > next_arrival:
                # A new actor arrives and schedules her (or its) first ad.
                t0 = int(next_arrival)
                actor: _Pending | _Independent | _Group
                if next_grp <= next_ind:
                    actor = self._new_group(t0)
                    first = self._local_time(t0, actor.country.tz, 0, _EVENING)
                    next_grp += actor.left / self.group_rate * (0.5 + rng.random())
                else:
                    actor = _Pending(rng.choice(self.country_draw), rng.choice(_IND_QUOTA))
                    first = self._local_time(t0, actor.country.tz, 0, _HOURS)
                    next_ind += actor.left / self.ind_rate * (0.5 + rng.random())
                    if t0 < -_IND_WARMUP_DAYS * 1440:
                        continue  # she would be done before the corpus opens
                heapq.heappush(heap, (first, seq, actor))
                seq += 1
                continue
            t, _, actor = heapq.heappop(heap)
            nxt: int | None = None  # her next ad's minute, None when she is done
            if isinstance(actor, _Group):
                girl = self._group_step(actor, t)
                if t >= 0:
                    yield self._group_ad(actor, t, girl)
                    self.emitted += 1
                actor.left -= 1
                if actor.left > 0:
                    if actor.burst:
                        nxt = t + rng.randint(4, 55)
                    else:
                        gap = rng.choice((1, 1, 1, 2, 2, 3))
                        nxt = self._local_time(t, actor.country.tz, gap, _EVENING)
            else:
                if t >= 0:
                    if isinstance(actor, _Pending):
                        actor = self._new_independent(actor.country, actor.left)
                    yield self._independent_ad(actor, t)
                    self.emitted += 1
                actor.left -= 1
                if actor.left > 0:
                    gap = rng.choice((1, 1, 2, 2, 3, 4, 5, 7, 7, 10, 14))
                    nxt = self._local_time(t, actor.country.tz, gap, _HOURS)
            if nxt is not None:
                heapq.heappush(heap, (nxt, seq, actor))
                seq += 1
            elif not isinstance(actor, _Pending):  # retired: her numbers go back
                for phone in actor.phones:
                    self.pools[phone.country].release(phone)

    def _group_step(self, g: _Group, t: int) -> _Girl:
        """The woman of the group's next ad; a new burst (maybe in a new city) if due."""
        rng = self.rng
        if not g.burst:
            if t >= g.move_at:
                g.city_i = (g.city_i + 1) % len(g.circuit)
                g.move_at = t + rng.randint(5, 21) * 1440
            k = len(g.girls)
            g.burst = tuple(rng.sample(g.girls, rng.randint(max(2, k // 3), k)))
        girl = g.burst[0]
        g.burst = g.burst[1:]
        return girl


def generate(
    n_ads: int, seed: int = 0, start: datetime | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield ``n_ads`` labelled ads, ``(record, label)``, in order of ``posted_at``.

    ``record`` is what the readers take: ``{"id": "demo-0000123", "source":
    "demo-classifieds", "title", "body", "url":
    "http://<city>.<source>.example/escorts/<slug>/<post number>", "location": "<place>,
    <city>" (in a few orders), "posted_at": "2017-03-04T21:15:00Z" (ISO-8601, UTC, to
    the minute), "images": []}``; ads of sources with an age field
    (``demo-classifieds``) also carry ``"site_age": int`` (years) and their title ends
    in ``" - <age>"``. Ids are unique (``demo-`` and a running number). ``label`` is
    ``{"ad_id", "poster": "p000123", "group": "g00042" or None for an independent
    poster}``.

    ``start``: the first instant (default 2017-01-01T00:00Z; a naive datetime is read
    as UTC). The ads spread over about ``SPAN_DAYS`` days from it. The same ``seed``
    gives the same ads. Memory stays bounded: only the posters and groups active at
    a time are held.
    """
    if n_ads < 0:
        raise ValueError(f"n_ads must be 0 or more, not {n_ads}")
    if start is None:
        start = DEFAULT_START
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if n_ads == 0:
        return iter(())
    return _Corpus(n_ads, seed, start).run()


def _json_lines(record: dict[str, Any], label: dict[str, Any]) -> tuple[str, str]:
    """``json.dumps(record, ensure_ascii=False)`` and ``json.dumps(label)``, each with a
    newline, written directly: twice as fast as the encoder.

    Knows the keys ``_Corpus._record`` writes and in which order; ids, sources and dates
    are plain ASCII and need no escaping.
    """
    line = (
        f'{{"id": "{record["id"]}", "source": "{record["source"]}", '
        f'"title": {_escape(record["title"])}, "body": {_escape(record["body"])}, '
        f'"url": {_escape(record["url"])}, "location": {_escape(record["location"])}, '
        f'"posted_at": "{record["posted_at"]}", "images": []'
    )
    if "site_age" in record:
        line += f', "site_age": {record["site_age"]}'
    group = "null" if label["group"] is None else f'"{label["group"]}"'
    return (
        line + "}\n",
        f'{{"ad_id": "{label["ad_id"]}", "poster": "{label["poster"]}", "group": {group}}}\n',
    )


def write_corpus(ads_path: Path, labels_path: Path, n_ads: int, seed: int = 0) -> int:
    """Write ``n_ads`` generated ads to ``ads_path`` and their labels to ``labels_path``.

    Both files are JSONL (UTF-8, one object a line as ``json.dumps`` writes it with
    ``ensure_ascii=False``, in the same order); see :func:`generate` for the shapes.
    The output is byte-identical for a given ``seed``. Returns the number of ads
    written.
    """
    ads_path, labels_path = Path(ads_path), Path(labels_path)
    n = 0
    with (
        ads_path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as ads_out,
        labels_path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as labels_out,
    ):
        for record, label in generate(n_ads, seed):
            ad_line, label_line = _json_lines(record, label)
            ads_out.write(ad_line)
            labels_out.write(label_line)
            n += 1
    return n
