"""The command line: one obvious job per command.

Machine output (JSON lines, CSV) goes alone to stdout; progress bars, logs and
summaries go to stderr. A command that cannot do its job prints one line
``error: <reason>`` on stderr and exits with status 1 (2 for usage errors); set
``ADSENTRY_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from adsentry import __version__
from adsentry.config import Config, load_config
from adsentry.errors import AdsentryError

app = typer.Typer(
    name="adsentry",
    help="Find trafficking networks in online ads: extract, link, explain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True)
out = Console(soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Case database (SQLite file). [default: adsentry.db]"),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="ISO 3166-1 alpha-2 fallback country for phone numbers without country code. "
        "[default: US]",
    ),
]

_CONFIG_PATH: list[Path | None] = [None]


def _config() -> Config:
    """Settings of adsentry.toml (or --config) with ADSENTRY_* overrides."""
    return load_config(_CONFIG_PATH[0])


def _db(db: Path | None, default: str = "adsentry.db") -> Path:
    return db if db is not None else Path(_config().db or default)


def _region(region: str | None) -> str:
    return _check_region(region or _config().region or "US")


@contextmanager
def _errors() -> Iterator[None]:
    """Turn expected failures into one line on stderr and a non-zero exit."""
    try:
        yield
    except AdsentryError as exc:
        if os.environ.get("ADSENTRY_DEBUG"):
            raise
        _say(f"error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _say("interrupted: what was committed is kept; run the command again to finish")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error.
        sys.stderr.close()
        raise typer.Exit(0) from None


def _say(line: str) -> None:
    """One unwrapped line on stderr (Rich would wrap it at the terminal width)."""
    sys.stderr.write(line.replace("\n", " ") + "\n")
    sys.stderr.flush()


def _check_region(region: str) -> str:
    import phonenumbers

    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise AdsentryError(
            f"region {region!r} (from --region, ADSENTRY_REGION or the config file): "
            "not an ISO 3166-1 alpha-2 country code that phonenumbers knows"
            + (" (did you mean GB?)" if code == "UK" else "")
        )
    return code


def _check_workers(workers: int | None) -> int:
    from adsentry.pipeline import default_workers

    if workers is None:
        return default_workers()
    if workers < 1:
        raise AdsentryError(
            f"workers {workers} (from --workers, ADSENTRY_WORKERS or the config file): "
            "must be 1 or more"
        )
    return workers


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[ads]:>10,} ads"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and not os.environ.get("ADSENTRY_PROGRESS"),
    )


def version_callback(value: bool) -> None:
    if value:
        out.print(f"adsentry {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show version."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (default: ./adsentry.toml if present)."),
    ] = None,
) -> None:
    """adsentry: data tooling that fights human trafficking in online ads."""
    _CONFIG_PATH[0] = config


@app.command()
def analyze(
    files: Annotated[list[Path], typer.Argument(help="JSONL or CSV files of ads (.gz too).")],
    db: DbOption = None,
    source: Annotated[
        str | None, typer.Option(help="Source name for every ad (default: record or file).")
    ] = None,
    region: RegionOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes for the per-ad stages (default: cores).")
    ] = None,
    field_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="Field mapping FIELD=COLUMN, e.g. body=description."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Ads per transaction.")] = 500,
) -> None:
    """Read ads, extract contacts, ages, prices, names and places, store them in the case
    database (default adsentry.db), and link the ads into networks."""
    with _errors():
        path = _db(db)
        report = run_analyze(files, path, source, region, workers, field_map, batch_size)
        print_analyze_summary(report, path)


def run_analyze(
    files: list[Path],
    db: Path,
    source: str | None,
    region: str | None,
    workers: int | None,
    field_map: list[str] | None,
    batch_size: int = 500,
) -> Any:
    """Shared by ``analyze`` and ``demo``: validate options, run with a progress bar."""
    from adsentry.io.readers import AdReader, parse_field_map
    from adsentry.pipeline import PipelineConfig, analyze
    from adsentry.store import open_store

    settings = _config()
    code = _region(region)
    n_workers = _check_workers(workers if workers is not None else settings.workers)
    try:
        mapping = parse_field_map(field_map)
    except ValueError as exc:
        raise AdsentryError(str(exc)) from None
    if batch_size < 1:
        raise AdsentryError(f"--batch-size {batch_size}: must be 1 or more")
    for f in files:  # fail before touching the database
        AdReader(f)
    store = open_store(db)
    try:
        with _progress() as progress:
            task = progress.add_task("analyze", total=None, ads=0)

            def update(done: int, total: int, ads_done: int) -> None:
                progress.update(task, completed=done, total=total or None, ads=ads_done)

            report = analyze(
                files,
                store,
                db_path=db,
                source=source,
                field_map=mapping,
                config=PipelineConfig(region=code, source_regions=dict(settings.source_regions)),
                workers=n_workers,
                batch_size=batch_size,
                progress=update,
                score_settings=settings.score_settings(),
            )
            progress.update(task, ads=report.ads_read)
    finally:
        store.close()
    return report


def print_analyze_summary(report: Any, db: Path) -> None:
    """The summary table of an analyze run, on stderr."""
    from adsentry.io.quarantine import quarantine_path

    t = Table(title=f"adsentry analyze → {db}", show_header=False, title_justify="left")
    t.add_column("what", style="bold")
    t.add_column("count", justify="right")
    t.add_row("files", str(len(report.files)))
    t.add_row("records read", f"{report.read.records:,}")
    t.add_row("ads stored (new)", f"{report.stored:,}")
    t.add_row("new versions of stored ads", f"{report.new_versions:,}")
    t.add_row("unchanged (already stored)", f"{report.unchanged:,}")
    t.add_row("blank lines skipped", f"{report.read.blank:,}")
    q = report.read.rejected
    qtext = f"{report.quarantined:,}"
    if q:
        qtext += " (" + ", ".join(f"{k} {v}" for k, v in sorted(q.items())) + ")"
    t.add_row("quarantined", qtext)
    if report.read.repaired_records:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.read.repairs.items()))
        t.add_row("repaired records", f"{report.read.repaired_records:,} ({kinds})")
    for kind, n in sorted(report.entities.items()):
        t.add_row(f"entities: {kind}", f"{n:,}")
    t.add_row("ads per second", f"{report.ads_per_second:,.0f}")
    t.add_row("seconds", f"{report.seconds:,.1f}")
    err.print(t)
    if getattr(report, "link", None) is not None:
        _say(report.link.line())
    else:
        _say("relink: nothing new stored; the networks are up to date")
    if getattr(report, "score", None) is not None:
        _say(report.score.line())
    if report.quarantined:
        err.print(f"quarantined records are in {quarantine_path(db)}")


@app.command()
def stats(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Counts of ads, quarantined records, entities by kind, and sources."""
    from adsentry.store import open_store

    with _errors():
        db = _db(db)
        store = open_store(db, create=False)
        try:
            s = store.stats()
        finally:
            store.close()
        if as_json:
            sys.stdout.write(json.dumps(s, sort_keys=True) + "\n")
            return
        t = Table(title=str(db), show_header=False, title_justify="left")
        t.add_column("what", style="bold")
        t.add_column("count", justify="right")
        t.add_row("ads", f"{s['ads']:,}")
        t.add_row("stored versions", f"{s['versions']:,}")
        t.add_row("quarantined records", f"{s['quarantined']:,}")
        for name, n in s["sources"].items():
            t.add_row(f"source: {name}", f"{n:,}")
        for kind, n in s["entities"].items():
            t.add_row(f"entities: {kind}", f"{n:,}")
        out.print(t)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="FTS5 query, or a phone number in any form.")],
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Most ads to list.")] = 20,
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    """Search ads by text (FTS5 syntax) or by phone number however it is written."""
    from adsentry.store import open_store

    with _errors():
        if limit < 1:
            raise AdsentryError(f"--limit {limit}: must be 1 or more")
        if not query.strip():
            raise AdsentryError("empty query")
        store = open_store(_db(db), create=False)
        try:
            ads, total, how = _run_search(store, query.strip(), _region(region), limit)
        finally:
            store.close()
        if as_json:
            for a in ads:
                row = {
                    "source": a.source,
                    "ad_id": a.ad_id,
                    "title": a.title,
                    "posted_at": a.posted_at,
                    "location": a.location,
                    "url": a.url,
                }
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        shown = f"{len(ads)} of {total}" if total > len(ads) else f"{total}"
        more = " (use --limit to see more)" if total > len(ads) else ""
        _say(f"{shown} ad(s) for {how}{more}")
        if ads:
            t = Table()
            for col in ("source", "ad_id", "posted_at", "title"):
                t.add_column(col, overflow="fold")
            for a in ads:
                cells = (a.source, a.ad_id, (a.posted_at or "")[:16], a.title[:80])
                t.add_row(*(Text(c) for c in cells))  # ad text is data, never markup
            out.print(t)


def _run_search(store: Any, query: str, region: str, limit: int) -> tuple[list[Any], int, str]:
    """``(ads, total, what was searched)``: a phone in any written form, an e-mail or a
    ``platform:handle`` is looked up among the extracted identifiers; anything else is
    an FTS5 query, and one that FTS5 cannot parse is searched again as a phrase."""
    from adsentry.query import identifier_query

    found = identifier_query(query, region)
    if found is None:
        try:
            return store.search_text(query, limit), store.count_text(query), "that text query"
        except AdsentryError as exc:
            phrase = '"' + query.replace('"', '""') + '"'
            _say(f"note: {exc}; searched for it as a phrase instead")
            return store.search_text(phrase, limit), store.count_text(phrase), "that phrase"
    kind, value = found
    how = {"phone": "that phone number", "email": "that e-mail address"}.get(kind, "that handle")
    # never echo identifiers
    return store.ads_with_entity(kind, value, limit), store.count_with_entity(kind, value), how


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV file of ads.")],
    region: RegionOption = None,
    source: Annotated[str | None, typer.Option(help="Source name for every ad.")] = None,
    field_map: Annotated[
        list[str] | None, typer.Option("--map", help="Field mapping FIELD=COLUMN.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes for extraction.")] = 1,
) -> None:
    """Print the entities of every ad as JSON lines (no database).

    Each line: {"id", "entities": [{"kind", "value", "field", "start", "end", "text",
    "obfuscated", "extractor"}]}, where start and end are offsets into that field of
    the input record, so the field's text from start to end equals text.
    """
    from adsentry.io.readers import AdReader, parse_field_map, read_batches
    from adsentry.pipeline import Pipeline, PipelineConfig

    with _errors():
        try:
            mapping = parse_field_map(field_map)
        except ValueError as exc:
            raise AdsentryError(str(exc)) from None
        reader = AdReader(file, source=source, field_map=mapping)
        settings = _config()
        pipeline = Pipeline(
            ("extract",),
            PipelineConfig(region=_region(region), source_regions=dict(settings.source_regions)),
        )
        n_workers = _check_workers(workers)

        write = sys.stdout.write
        n = 0
        with _progress() as progress:
            task = progress.add_task("extract", total=reader.total_bytes or None, ads=0)
            batches = read_batches(reader, 256)
            for docs, rejected in pipeline.pipe_batches(batches, n_process=n_workers):
                for r in rejected:
                    _say(f"warning: {r.file}:{r.line}: {r.reason} ({r.detail})")
                for doc in docs:
                    ad = doc.ad
                    ents = [e.to_dict(ad.input_field(e.field)) for e in doc.entities]
                    write(_json_line({"id": ad.ad_id, "entities": ents}))
                n += len(docs)
                progress.update(task, completed=reader.bytes_read, ads=n)
        sys.stdout.flush()


def _json_line(record: dict[str, Any]) -> str:
    """One JSON line (:func:`adsentry.io.encode.dumps`, UTF-8 kept as it is)."""
    from adsentry.io.encode import dumps

    return dumps(record).decode() + "\n"


@app.command("eval")
def eval_cmd(
    gold: Annotated[Path, typer.Argument(help="Gold JSONL file (shared/data/gold formats).")],
    kind: Annotated[
        str, typer.Option("--kind", help="phone, age, price, handle, name or location.")
    ],
    region: RegionOption = None,
    show: Annotated[int, typer.Option(help="Most misses and false hits to list.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Score an extractor against a gold file: precision, recall, F1, then the errors."""
    from adsentry.evaluate import evaluate, iter_cases, phonenumbers_baseline

    with _errors():
        if not gold.exists():
            raise AdsentryError(f"{gold}: no such file")
        code = _region(region)
        scores = evaluate(gold, kind, code)
        baseline = phonenumbers_baseline(gold, code) if kind == "phone" else []
        if as_json:
            doc = {
                "gold": str(gold),
                "kind": kind,
                "scores": [s.to_dict() for s in scores],
                "baseline": [s.to_dict() for s in baseline],
                "errors": [
                    {"score": n, "type": t, "record": c.record, "key": c.key, "context": c.context}
                    for n, t, c in iter_cases(scores)
                ],
            }
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
            return
        t = Table(title=f"{kind} on {gold.name}", title_justify="left")
        for col in ("extractor", "records", "TP", "FP", "FN", "precision", "recall", "F1", "exact"):
            t.add_column(col, justify="left" if col == "extractor" else "right")
        for sc in [*scores, *baseline]:
            t.add_row(
                sc.name, str(sc.records), str(sc.tp), str(sc.fp), str(sc.fn),
                f"{sc.precision:.3f}", f"{sc.recall:.3f}", f"{sc.f1:.3f}", f"{sc.exact_share:.3f}",
            )  # fmt: skip
        out.print(t)
        for i, (name, what, case) in enumerate(iter_cases(scores)):
            if i >= show:
                out.print("... and more (use --show N or --json)", highlight=False)
                break
            out.print(
                f"{what:9} {name:20} {case.record:14} {case.key!s:24} {case.context}",
                highlight=False,
                markup=False,
            )


@app.command()
def demo(
    ads: Annotated[int, typer.Option("--ads", help="How many ads to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same corpus).")] = 7,
    db: DbOption = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: cores).")] = None,
) -> None:
    """Generate a labelled demo corpus (demo/ads.jsonl) and analyze it into demo.db."""
    from adsentry import demo as demo_mod
    from adsentry.store import open_store

    with _errors():
        if ads < 1:
            raise AdsentryError(f"--ads {ads}: must be 1 or more")
        folder = Path("demo")
        folder.mkdir(exist_ok=True)
        ads_path, labels_path = folder / "ads.jsonl", folder / "labels.jsonl"
        with err.status(f"generating {ads:,} demo ads (seed {seed})"):
            n = demo_mod.write_corpus(ads_path, labels_path, ads, seed)
        err.print(f"wrote {n:,} ads to {ads_path} and their labels to {labels_path}")
        db = _db(db, default="demo.db")
        report = run_analyze([ads_path], db, None, None, workers, None)
        print_analyze_summary(report, db)
        store = open_store(db, create=False)
        try:
            top = store.top_values("phone", 1)
        finally:
            store.close()
        example = top[0][0] if top else "(619) 555-0142"
        err.print(
            "\nNext, try (the demo's numbers are fictional):\n"
            f"  adsentry stats --db {db}\n"
            f'  adsentry search "{example}" --db {db}\n'
            f'  adsentry search "call OR text" --db {db} --limit 5\n'
            f"  adsentry top --db {db}\n"
            f"  adsentry serve --db {db}    (then open http://127.0.0.1:8000)\n"
            f"  adsentry extract {ads_path} | head -3",
            highlight=False,
        )


@app.command()
def relink(db: DbOption = None) -> None:
    """Rebuild templates, generic identifiers and networks from the stored ads, then
    assess every ad and network again (also after changing weights or policy)."""
    from adsentry.link.networks import relink as run_relink
    from adsentry.score import rescore
    from adsentry.store import open_store

    with _errors():
        settings = _config().score_settings()
        store = open_store(_db(db), create=False)
        try:
            report = run_relink(store)
            scored = rescore(store, settings)
        finally:
            store.close()
        _say(report.line())
        _say(scored.line())


export_app = typer.Typer(help="Machine output of the case database on stdout.")
app.add_typer(export_app, name="export")


@export_app.command("networks")
def export_networks(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
) -> None:
    """One record per current ad: {"ad_id", "source", "network_id", "template_id"}
    (null, or an empty CSV cell, where the ad stands alone)."""
    import csv

    from adsentry.store import open_store

    with _errors():
        if fmt not in ("jsonl", "csv"):
            raise AdsentryError(f"--format {fmt!r}: must be jsonl or csv")
        store = open_store(_db(db), create=False)
        try:
            rows = store.link_assignments()
        finally:
            store.close()
        keys = ("ad_id", "source", "network_id", "template_id")
        if fmt == "csv":
            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow(keys)
            for source, ad_id, _, nid, tid in rows:
                w.writerow((ad_id, source, nid or "", tid or ""))
        else:
            for source, ad_id, _, nid, tid in rows:
                rec = dict(zip(keys, (ad_id, source, nid, tid), strict=True))
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@app.command()
def network(
    network_id: Annotated[str, typer.Argument(help="Network id, e.g. n-1f2e3d4c5b6a7980.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    limit: Annotated[
        int, typer.Option(help="Most ads listed per section (0: all); --json lists all.")
    ] = 20,
) -> None:
    """A network's summary, its templates with their slots, and the evidence of each
    link (shared identifiers, template similarity), on stdout."""
    from adsentry.link.networks import network_detail
    from adsentry.store import open_store

    with _errors():
        store = open_store(_db(db), create=False)
        try:
            detail = network_detail(store, network_id)
        finally:
            store.close()
        if detail is None:
            if network_id.startswith("t-"):
                raise AdsentryError(
                    f"{network_id!r} is a template id; network ids start with n- "
                    "(`adsentry export networks` lists both)"
                )
            raise AdsentryError(
                f"no network {network_id!r} in this database (`adsentry export networks` "
                "and `adsentry top` list the ids)"
            )
        if as_json:
            sys.stdout.write(json.dumps(detail, ensure_ascii=False) + "\n")
            return
        if limit < 0:
            raise AdsentryError(f"--limit {limit}: must be 0 (all) or more")
        w = sys.stdout.write

        def cut(items: list[Any], indent: str) -> list[Any]:
            if limit and len(items) > limit:
                return [*items[:limit], f"{indent}... and {len(items) - limit} more (--limit)\n"]
            return items

        s = detail["summary"]
        span = f"{s['first_seen']} to {s['last_seen']}" if s["first_seen"] else "no dates"
        w(f"network {detail['network_id']}: {s['ads']} ads, {span}\n")
        for label in ("phones", "names", "cities"):
            shown = ", ".join(s[label]) or "(none extracted from title or body)"
            w(f"  {label} ({len(s[label])}): {shown}\n")
        w("ads:\n")
        for a in cut(detail["ads"], "  "):
            if isinstance(a, str):
                w(a)
                continue
            w(f"  {a['source']} {a['ad_id']}  {a['posted_at'] or '-'}  {a['template_id'] or '-'}\n")
        w("evidence: shared identifiers\n")
        for ident in detail["identifiers"]:
            w(f"  {ident['kind']} {ident['value']} on {len(ident['ads'])} ad(s):\n")
            for a in cut(ident["ads"], "    "):
                if isinstance(a, str):
                    w(a)
                    continue
                how = " (obfuscated)" if a["obfuscated"] else ""
                w(f"    {a['source']} {a['ad_id']}: {a['text']!r}{how}\n")
        w("evidence: templates\n")
        for t in detail["templates"]:
            w(f"  template {t['template_id']} ({len(t['members'])} ads, coverage "
              f"{t['coverage']:.2f}):\n")  # fmt: skip
            for m in cut(t["members"], "    "):
                if isinstance(m, str):
                    w(m)
                    continue
                w(f"    {m['source']} {m['ad_id']}: similarity {m['similarity']:.3f}\n")
            w("    text: " + t["text"].replace("\n", "\n          ") + "\n")
            if t["sample"] < len(t["members"]):
                w(f"    (text and slots aligned over the first {t['sample']} ads)\n")
            for i, values in enumerate(t["slots"], start=1):
                shown = values[:limit] if limit else values
                more = f" | ... {len(values) - len(shown)} more" if len(shown) < len(values) else ""
                w(f"    [SLOT{i}]: " + " | ".join(repr(v) for v in shown) + more + "\n")
        sys.stdout.flush()


@app.command()
def top(
    db: DbOption = None,
    networks: Annotated[
        bool, typer.Option("--networks/--ads", help="Rank networks (default) or ads.")
    ] = True,
    n: Annotated[int, typer.Option("-n", help="How many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    """The highest scores with their main contributions."""
    from adsentry.score import top_scores
    from adsentry.store import open_store

    with _errors():
        if n < 1:
            raise AdsentryError(f"-n {n}: must be 1 or more")
        db = _db(db)
        store = open_store(db, create=False)
        try:
            rows = top_scores(store, "network" if networks else "ad", n)
        finally:
            store.close()
        if not rows:
            _say("no scores yet: run `adsentry analyze` or `adsentry relink` first")
            return
        if as_json:
            for r in rows:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
            return
        what = "networks" if networks else "ads"
        t = Table(title=f"top {len(rows)} {what} by score ({db})", title_justify="left")
        t.add_column("network" if networks else "ad", no_wrap=True)
        if networks:
            t.add_column("ads", justify="right")
        t.add_column("score", justify="right")
        t.add_column("decision")
        t.add_column("main contributions (weight)")
        for r in rows:
            main = "; ".join(
                f"{c['code']} {c['weight']:+.2f}: {c['evidence']}" for c in r["contributions"][:3]
            )
            key = r["network_id"] if networks else f"{r['source']}/{r['ad_id']}"
            cells = [key, *([str(r["size"])] if networks else []), f"{r['score']:.2f}"]
            t.add_row(*cells, r["decision"], main, end_section=False)
        out.print(t)


@app.command()
def screen(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV file of ads to screen.")],
    db: DbOption = None,
    store_ads: Annotated[
        bool, typer.Option("--store", help="Also write the screened ads into the database.")
    ] = False,
    region: RegionOption = None,
    source: Annotated[str | None, typer.Option(help="Source name for every ad.")] = None,
    workers: Annotated[
        int,
        typer.Option(help="Screening processes, forked once the index is built (not with --store)"),
    ] = 1,
) -> None:
    """Screen a batch of ads offline against the case database: one JSON line per ad
    on stdout, as POST /v1/screen answers (records that cannot be read: a line with
    "rejected": true and the reason)."""
    from adsentry.io.readers import AdReader, Rejected
    from adsentry.pipeline import PipelineConfig, batch_gc
    from adsentry.screen import Screener, screen_in_pool, screening_pool
    from adsentry.store import open_store

    with _errors():
        n_workers = _check_workers(workers)
        if store_ads and n_workers > 1:
            raise AdsentryError(
                "--store screens one ad after another (each sees the ones stored before "
                "it): use it with --workers 1"
            )
        settings = _config()
        config = PipelineConfig(
            region=_region(region), source_regions=dict(settings.source_regions)
        )
        reader = AdReader(file, source=source)
        store = open_store(_db(db), create=False)
        try:
            with err.status("indexing the stored templates"):
                screener = Screener(store, config=config, settings=settings.score_settings())
            counts: Counter[str] = Counter()
            write = sys.stdout.write
            with batch_gc():
                # forked before the progress display starts its thread
                pool = screening_pool(screener, n_workers) if n_workers > 1 else None
            if n_workers > 1 and pool is None:
                _say("note: no fork on this platform: screening in one process")
            try:
                with _progress() as progress, batch_gc():
                    task = progress.add_task("screen", total=reader.total_bytes or None, ads=0)

                    def screened(ads: list[Any]) -> Callable[[], list[dict[str, Any]]]:
                        if pool is None:
                            done = screener.screen_many(ads, store_ads=store_ads)
                            return lambda: done
                        return pool.submit(screen_in_pool, ads).result

                    def emit(items: list[Any], result: Callable[[], list[dict[str, Any]]]) -> None:
                        answers = iter(result())
                        for item in items:
                            if isinstance(item, Rejected):
                                counts["rejected"] += 1
                                rec = {"rejected": True, **item.to_dict()}
                                rec.pop("raw", None)
                            else:
                                rec = next(answers)
                                counts[rec["decision"]] += 1
                            write(json.dumps(rec, ensure_ascii=False) + "\n")
                        progress.update(task, completed=reader.bytes_read, ads=sum(counts.values()))

                    # in batches (one text analysis and one query of each kind per batch),
                    # at most two per process in flight; with --store one by one, so that
                    # each ad sees the ones stored before it. Lines come out in input order.
                    size = 1 if store_ads else 64
                    pending: deque[tuple[list[Any], Callable[[], list[dict[str, Any]]]]] = deque()
                    for items in _chunked(reader, size):
                        ads = [x for x in items if not isinstance(x, Rejected)]
                        pending.append((items, screened(ads)))
                        if len(pending) >= 2 * n_workers:
                            emit(*pending.popleft())
                    while pending:
                        emit(*pending.popleft())
            finally:
                if pool is not None:
                    pool.shutdown(cancel_futures=True)
            sys.stdout.flush()
        finally:
            store.close()
        _say(
            "screened: "
            + ", ".join(f"{counts[k]:,} {k}" for k in ("allow", "review", "hold", "rejected"))
            + (" (stored)" if store_ads else "")
        )


def _check_port(host: str, port: int) -> None:
    """Raise AdsentryError when ``host:port`` cannot be bound (in use, or not ours)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AdsentryError(f"--host {host}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            raise AdsentryError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind. [default: 127.0.0.1; others need API keys]"),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port. [default: 8000]")] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Screening processes: forked from the server once its index is built, "
            "and fed from one queue (1: screen in the server process)."
        ),
    ] = 1,
) -> None:
    """Serve the screening API (POST /v1/screen), the JSON API (/api) and the API
    docs (/docs) over the case database."""
    import uvicorn

    from adsentry.web import create_app, is_loopback

    with _errors():
        settings = _config()
        db = _db(db)
        bind = host or settings.host or "127.0.0.1"
        port = port or settings.port or 8000
        public = not is_loopback(bind)
        if workers < 1:
            raise AdsentryError(f"--workers {workers}: must be 1 or more")
        create_app(db, settings, public=public, screen_workers=workers)  # check it all now
        _check_port(bind, port)
        if not settings.api_keys:
            _say("note: no API keys set (ADSENTRY_API_KEYS): /v1/screen answers 401")
        _say(f"serving {db} on http://{bind}:{port} (docs: /docs)")
        os.environ["ADSENTRY_SERVE"] = json.dumps(
            {
                "db": str(db),
                "config": str(_CONFIG_PATH[0] or ""),
                "public": public,
                "workers": workers,
            }
        )
        uvicorn.run(
            "adsentry.web.app:app_from_env",
            factory=True,
            host=bind,
            port=port,
            log_level="warning",
            access_log=False,
            # on SIGINT or SIGTERM, requests still running after 5 s are cancelled, so
            # that the server stops even behind a screening that takes minutes
            timeout_graceful_shutdown=5,
        )


def main() -> None:
    """Entry point of the ``adsentry`` command."""
    app()


if __name__ == "__main__":
    main()
