"""Building a series: the selected episodes that are not up to date produced under the output folder's
lock, the state file kept after each, then the report and the feed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from audiodrama import runtime
from audiodrama.episode import read_source
from audiodrama.files import ensure_writable_dir, sweep_partials, write_text_atomic
from audiodrama.series.cluster import Cluster
from audiodrama.series.feed import publish_cover, write_series_feed
from audiodrama.series.manifest import EpisodeSpec, Series, select
from audiodrama.series.plan import episode_tags, new_speakers, plan
from audiodrama.series.report import REPORT_JSON, REPORT_MD, BatchReport, EpisodeReport, review_lines
from audiodrama.series.state import EpisodeRecord, State, read_state, series_lock, write_state
from audiodrama.series.workers import Job, Outcome, run_jobs


def build_series(series: Series, jobs: int | None = None, only: str | None = None,
                 on_episode: Callable[[EpisodeReport], None] | None = None, scheduler: str | None = None,
                 on_notice: Callable[[str], None] | None = None) -> BatchReport:
    """Build the selected episodes that are not up to date, then write the report and the feed.

    `jobs` (default: the core count) is split between episodes built at once (separate processes)
    and synthesis processes per episode. With `scheduler` (a Dask scheduler's address, or `local[:N]`)
    the episodes are built on that cluster instead, `jobs` synthesis processes each, and `on_notice`
    hears where the cluster and its dashboard are. The state file is rewritten after every episode, so
    a killed batch resumes where it stopped; a failed episode is reported and the others go on.
    """
    started = time.monotonic()
    selected = select(series, only)
    out_dir = ensure_writable_dir(series.output)
    runtime.ffmpeg()  # missing: say so before any work
    with series_lock(out_dir), Cluster(scheduler, jobs, on_notice) if scheduler else nullcontext() as cluster:
        sweep_partials(out_dir)
        state = read_state(out_dir)
        planned = plan(series, selected, state)
        records = {k: v for k, v in state.episodes.items() if k in {e.name for e in series.episodes}}
        state = State(state.voices, records)
        write_state(out_dir, state)
        reports: dict[int, EpisodeReport] = {}
        for item in planned:
            if item.up_to_date:
                reports[item.spec.number] = _report(item.spec, "skipped", records[item.spec.name], None)
                if on_episode:
                    on_episode(reports[item.spec.number])
        todo = [item for item in planned if not item.up_to_date]
        cores = jobs or os.cpu_count() or 1
        workers = max(1, min(cores, len(todo)))
        by_number = {item.spec.number: item for item in todo}
        first = datetime.now(timezone.utc).replace(microsecond=0)
        new = [item.spec.name for item in todo if item.spec.name not in records]
        published = {name: (first + timedelta(seconds=i)).isoformat() for i, name in enumerate(new)}
        work = []
        for item in todo:
            script = item.script or read_source(item.spec.file, item.spec.cast, item.spec.settings.authors_notes)
            by_number[item.spec.number] = replace(item, script=script)
            work.append(Job(item.spec, item.cast, script, episode_tags(series, item.spec, script), out_dir,
                            cluster.jobs if cluster else max(1, cores // workers)))

        def done(job: Job, outcome: Outcome) -> None:
            item = by_number[job.spec.number]
            record = None
            if not outcome.error:
                assert item.script is not None
                previous = records.get(job.spec.name)
                record = EpisodeRecord(item.key, item.reading_key, item.speakers,
                                       new_speakers(series, item.speakers), job.tags.title, outcome.seconds,
                                       outcome.lines, outcome.bytes, review_lines(job.spec, item.script),
                                       previous.published if previous else published[job.spec.name])
                records[job.spec.name] = record
                write_state(out_dir, state)
            reports[job.spec.number] = _report(job.spec, "failed" if outcome.error else "built", record, outcome)
            if on_episode:
                on_episode(reports[job.spec.number])

        if cluster:
            cluster.run(work, done)
        else:
            run_jobs(work, workers, done)
        feed = write_series_feed(series, state, publish_cover(series))
        report = BatchReport(series.title, out_dir, tuple(reports[e.number] for e in selected),
                             time.monotonic() - started, feed)
        write_text_atomic(out_dir / REPORT_JSON, report.to_json())
        write_text_atomic(out_dir / REPORT_MD, report.markdown())
    return report


def _report(spec: EpisodeSpec, status: str, record: EpisodeRecord | None, outcome: Outcome | None) -> EpisodeReport:
    base = EpisodeReport(spec.number, spec.name, str(spec.file), status)
    if record:
        base = replace(base, title=record.title, seconds=record.seconds, lines=record.lines,
                       new_speakers=record.new_speakers, review=record.review)
    if outcome:
        base = replace(base, synthesized=outcome.synthesized, elapsed=outcome.elapsed, error=outcome.error)
    return base
