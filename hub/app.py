"""The composition root: one ``Hub`` built from the configuration, held by every user.

The ``peyvand`` command, the benchmarks and the tests all hold a ``Hub``: it opens the
store, builds the matcher and the sink from the configured settings, runs pipelines,
relays events and answers read queries with typed views. Nothing else wires these parts
together.

    hub = Hub.from_config(Path("config.yaml"))
    stats = hub.run()                       # every configured pipeline
    hub.relay()                             # publish the outbox
    hub.search("Karimi")                    # [MasterSummary(...), ...]
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

import structlog
from sqlalchemy import Connection, Engine
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from adapters import get_adapter_class
from hub import export
from hub.adapter import SourceContext
from hub.config import Config, PipelineConfig, load_config
from hub.errors import ConfigError, SourceUnavailable
from hub.matching import Model, ProbabilisticMatcher
from hub.matching.explain import Explanation
from hub.matching.profile import Profile
from hub.matching.train import TrainingReport, train
from hub.pipeline import RunStats, check_all, replay, run_pipeline
from hub.preview import PreviewRow, preview, source_problems
from hub.sink import StoreSink
from hub.store import checkpoints, outbox, quarantine, queries, review, runs
from hub.store.dialect import lock
from hub.store.engine import open_engine, read, unit_of_work
from hub.store.erase import erase
from hub.store.history import MergeRecord, merges_of
from hub.store.master import MasterRepository, open_ids
from hub.store.mastering import Unmerged, merge_masters, unmerge
from hub.store.outbox import Event
from hub.store.quarantine import QuarantineEntry
from hub.store.rematch import RematchDiff, apply_rematch, open_profiles, plan_rematch
from hub.store.run_lock import run_locks
from hub.store.runs import RunRecord


class RunObserver(Protocol):
    """Told how a run goes, e.g. to draw progress bars."""

    def started(self, pipeline: str, total: int | None) -> None: ...
    def advanced(self, pipeline: str, records: int) -> None: ...
    def finished(self, pipeline: str, stats: RunStats) -> None: ...


log = structlog.get_logger("peyvand.run")


class _Unobserved:
    def started(self, pipeline: str, total: int | None) -> None:
        pass

    def advanced(self, pipeline: str, records: int) -> None:
        pass

    def finished(self, pipeline: str, stats: RunStats) -> None:
        pass


class Hub:
    """Peyvand, configured: the store, the matcher, the pipelines and the bus."""

    def __init__(self, config: Config, *, engine: Engine | None = None,
                 read_only: bool = False) -> None:
        """Args:
            config: the checked configuration.
            engine: a store to use instead of opening ``config.store.url`` (tests).
            read_only: open the store for reading only (nothing created, migrated or
                written); StoreRefused on first use when there is none to read.
        """
        self.config = config
        self._engine = engine
        self._read_only = read_only

    @classmethod
    def from_config(cls, path: Path | None = None,
                    environ: Mapping[str, str] | None = None) -> Hub:
        return cls(load_config(path, environ))

    @property
    def engine(self) -> Engine:
        """The store, opened (and its schema brought up to date) on first use."""
        if self._engine is None:
            self._engine = open_engine(self.config.store.url, read_only=self._read_only)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- writing -------------------------------------------------------------------------

    @functools.cached_property
    def matcher(self) -> ProbabilisticMatcher:
        """The configured matcher with its model (``matching.model``, beside the config)."""
        return self.config.matching.matcher(self.config.path.parent)

    def masters(self) -> MasterRepository:
        """The master repository as configured: the matcher and survivorship."""
        m = self.config.matching
        return MasterRepository(self.matcher, self.config.survivorship.golden_rules(),
                                max_key_records=m.max_key_records,
                                contradiction=m.contradiction,
                                key_prefixes=m.key_prefixes())

    def sink(self) -> StoreSink:
        return StoreSink(self.engine, self.masters())

    # -- matching ------------------------------------------------------------------------

    def train(self, *, sample: int = 200_000, save: bool = True,
              progress: Callable[[int], None] | None = None) -> tuple[Model, TrainingReport]:
        """Estimate the matching model from the store's records (at most ``sample`` of
        them, chosen at random with a fixed seed) and save it beside the config as the
        next version; the matcher uses it from then on."""
        profiles = read(self.engine, "reading the records to train on",
                        lambda conn: [p for _, _, _, p in open_profiles(conn)])
        if len(profiles) > sample:
            profiles = random.Random(1402).sample(profiles, sample)
        settings = self.config.matching
        model, report = train(profiles, self.matcher.model,
                              max_key_records=settings.max_key_records, progress=progress)
        if save:
            path = settings.model_path(self.config.path.parent)
            model.source = str(path)
            model.save(path)
            self.__dict__.pop("matcher", None)   # the next use loads the new model
        return model, report

    def rematch(self, *, dry_run: bool) -> tuple[RematchDiff, int]:
        """Match every record again with the current model; the diff, and the events
        written (none in a dry run)."""
        repo = self.masters()
        with unit_of_work(self.engine, "re-matching the master") as conn:
            lock(conn, "match")
            diff = plan_rematch(conn, repo)
            return diff, 0 if dry_run else apply_rematch(conn, repo, diff)

    def pipelines(self, names: Sequence[str] = ()) -> list[PipelineConfig]:
        """The named pipelines (all configured ones when none is named)."""
        return [self.config.pipeline(n) for n in names] if names else list(
            self.config.pipelines)

    def check(self, names: Sequence[str] = (), *, sources: bool = False
              ) -> list[PipelineConfig]:
        """Check adapters' settings and mappings; ConfigError lists every problem.

        With ``sources``, also open each source and check the mapped columns against
        its real header ("did you mean" for near misses).
        """
        chosen = self.pipelines(names)
        check_all(chosen)
        if sources:
            # A push source's requests name only the fields they have: no header to check.
            pulled = [cfg for cfg in chosen if not get_adapter_class(
                cfg.adapter, where=str(cfg.path)).features.push]
            problems = [p for cfg in pulled for p in source_problems(cfg, self._context(cfg))]
            if problems:
                raise ConfigError("the sources", problems)
        return chosen

    def preview(self, name: str, limit: int = 10) -> list[PreviewRow]:
        """The first records of a pipeline's source, mapped and standardized, with what
        would be set aside or held back; nothing is written."""
        cfg = self.config.pipeline(name)
        check_all([cfg])
        return preview(cfg, self._context(cfg), limit)

    def runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The run history, newest first."""
        return runs.history(self.engine, pipeline, limit)

    def checkpoint(self, pipeline: str) -> tuple[str, Any] | None:
        """Where ``pipeline`` stopped: (the adapter's position, when), or None."""
        self.config.pipeline(pipeline)
        return read(self.engine, f"reading the checkpoint of {pipeline}",
                    lambda conn: checkpoints.show(conn, pipeline))

    def reset_checkpoint(self, pipeline: str) -> bool:
        """Make ``pipeline`` read its source from the start next time; master ids stay.
        PipelineBusy while it runs: that run's next batch would move the checkpoint on."""
        self.config.pipeline(pipeline)
        with run_locks(self.engine, [pipeline]):
            return self._reset(pipeline)

    def _reset(self, pipeline: str) -> bool:
        with unit_of_work(self.engine, f"resetting the checkpoint of {pipeline}") as conn:
            return checkpoints.reset(conn, pipeline)

    def _context(self, cfg: PipelineConfig) -> SourceContext:
        # Only push sources read the store (their inbox), and only adapters that report
        # deletions ask which ids it holds: checking or previewing a file must not
        # create a store as a side effect.
        features = get_adapter_class(cfg.adapter, where=str(cfg.path)).features
        return SourceContext(
            base_dir=cfg.path.parent, store=self.engine if features.push else None,
            known_ids=partial(self._open_ids, cfg.source_system) if features.deletions
            else None)

    def _open_ids(self, source_system: str) -> Iterator[str]:
        return iter(read(self.engine, f"listing the records of {source_system}",
                         partial(open_ids, source_system=source_system)))

    def run(self, names: Sequence[str] = (), *, observer: RunObserver | None = None,
            full: bool = False) -> list[RunStats]:
        """Run pipelines to the end of their sources, one after the other.

        ``full`` re-reads each source from the start (a full refresh): records already
        stored are recognised by id and content, so master ids stay.
        """
        chosen, sink, results = self.check(names), self.sink(), []
        watch = observer or _Unobserved()
        with run_locks(self.engine, [cfg.name for cfg in chosen]):   # else PipelineBusy
            for cfg in chosen:
                if full:
                    self._reset(cfg.name)
                stats = RunStats(cfg.name)
                run_id = runs.start(self.engine, cfg.name)
                try:
                    self._attempts(cfg, sink, watch, stats)
                except Exception as exc:
                    runs.finish(self.engine, run_id, asdict(stats),
                                f"{type(exc).__name__}: {exc}"[:1000])
                    raise
                runs.finish(self.engine, run_id, asdict(stats))
                watch.finished(cfg.name, stats)
                results.append(stats)
        return results

    def _attempts(self, cfg: PipelineConfig, sink: StoreSink, watch: RunObserver,
                  stats: RunStats) -> None:
        """Run ``cfg``, trying again (with a growing wait) while its source is unavailable;
        each try resumes after the last committed batch, so nothing is read twice."""
        settings = self.config.run

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("source unavailable, trying again", pipeline=cfg.name,
                        attempt=state.attempt_number, error=str(exc))

        retrying = Retrying(
            retry=retry_if_exception_type(SourceUnavailable),
            stop=stop_after_attempt(settings.attempts),
            wait=wait_exponential(multiplier=settings.retry_wait, max=60),
            before_sleep=log_retry, reraise=True)
        try:
            retrying(run_pipeline, cfg, sink, context=self._context(cfg),
                     batch_size=settings.batch_size, stats=stats,
                     on_total=partial(watch.started, cfg.name),
                     on_progress=partial(watch.advanced, cfg.name))
        except SourceUnavailable as exc:
            raise SourceUnavailable(
                f"pipeline {cfg.name!r}: its source is still unavailable after "
                f"{settings.attempts} attempt(s), and its checkpoint stays after the last "
                f"committed batch: {exc}") from exc

    def replay(self, ids: Sequence[int] = ()) -> tuple[int, int]:
        """Run open quarantine entries (all, or ``ids``) through their pipeline again."""
        entries = quarantine.entries(self.engine, ids=ids)
        return replay(entries, self.config.pipelines, self.sink())

    def relay(self) -> int:
        """Publish the outbox events not on the bus yet; how many were published."""
        from hub.bus.relay import relay_outbox

        return relay_outbox(self.engine, self.config.bus.url)

    def describe_bus(self) -> str:
        """One sentence on the delivery guarantee of the configured bus."""
        from hub.bus.topology import describe_guarantee

        return describe_guarantee(self.config.bus.url)

    # -- reading -------------------------------------------------------------------------

    def customer(self, master_id: str) -> queries.MasterView | None:
        return queries.get_master(self.engine, master_id)

    def search(self, text: str, *, limit: int = 20) -> list[queries.MasterSummary]:
        return queries.search(self.engine, text, limit=limit)

    def count_customers(self) -> int:
        return queries.count_masters(self.engine)

    def quarantine(self, *, status: str | None = "open", after: int = 0,
                   limit: int | None = None) -> list[QuarantineEntry]:
        return quarantine.entries(self.engine, status=status, after=after, limit=limit)

    def top_reasons(self, limit: int = 5) -> list[tuple[str, str, int]]:
        return quarantine.top_reasons(self.engine, limit)

    def events(self, *, after: int = 0, limit: int | None = None,
               types: Sequence[str] | None = None) -> list[Event]:
        return outbox.read(self.engine, after=after, limit=limit, types=types)

    def export(self, fmt: str, stream: IO[str], *, spreadsheet_safe: bool = False) -> int:
        """Active customers as ``csv``, ``jsonl`` or ``xml`` (docs/exports.md); how many."""
        return export.write_master(self.engine, fmt, stream, spreadsheet_safe=spreadsheet_safe)

    def export_xref(self, path: Path) -> int:
        return export.write_xref(self.engine, path)

    # --- review and explain ---

    def review_list(self, limit: int = 20, offset: int = 0, *,
                    order: review.Order = "newest") -> list[review.ReviewPair]:
        """Open review pairs, newest first (or by score), both records side by side, each
        with its explanation: the queued one, or today's model's when the matcher queued
        less than field-by-field evidence."""
        def listing(conn: Connection) -> list[review.ReviewPair]:
            pairs = review.open_pairs(conn, limit=limit, offset=offset, order=order)
            bare = [p for p in pairs if p.explanation is None]
            found = review.profiles_by_id(conn, [s.record_id for p in bare
                                                 for s in (p.a, p.b)])
            return [p if p.explanation is not None else replace(
                p, explanation=self._explain_pair(p, found)) for p in pairs]
        return read(self.engine, "listing the review queue", listing)

    def _explain_pair(self, pair: review.ReviewPair,
                      profiles: Mapping[int, Profile]) -> dict[str, Any]:
        a, b = pair.a, pair.b
        return self.matcher.explain(profiles[a.record_id], profiles[b.record_id],
                                    (a.source_system, a.source_id),
                                    (b.source_system, b.source_id)).to_json()

    def review_count(self) -> int:
        return read(self.engine, "counting the review queue", review.count_open)

    def review_decide(self, pair_id: int, accept: bool, by: str) -> review.Decided:
        """Accept (merging the two customers) or reject (never linked automatically again)
        review pair ``pair_id``; ReviewError for an unknown or differently decided pair."""
        with unit_of_work(self.engine, f"deciding review pair {pair_id}") as conn:
            return review.decide(conn, pair_id, accept, by, repo=self.masters())

    def explain(self, a: str, b: str) -> Explanation:
        """Why two records match or not, field by field, as the configured matcher sees it.

        ``a`` and ``b`` are ``system/id`` of a source record or a customer id. A customer
        stands for whichever of its open records (up to ``review.MAX_SIDE``) scores highest
        against the other side, so explaining two customers explains their closest pair.
        A pair a reviewer decided says so among the rules, and its decision is theirs.
        """
        left, right = read(self.engine, "reading the records to explain", lambda conn: (
            review.profiles(conn, a), review.profiles(conn, b)))
        tried = [self.matcher.explain(pa, pb, ra, rb)
                 for ra, pa in left for rb, pb in right if ra != rb]
        if not tried:
            raise review.ReviewError(f"{a} and {b} are the same record", "the comparison "
                                     "asked for")
        best = max(tried, key=lambda e: e.score)
        # A reviewer's decision overrides the score, as it does in matching.
        word = read(self.engine, "reading the review decision",
                    lambda conn: review.verdict(conn, best.a, best.b))
        if word is None:
            return best
        return replace(best, rules=[*best.rules, word],
                       decision="match" if word.startswith("accepted") else "no match")

    # --- mastering ---

    def merge(self, a: str, b: str, *, force: bool = False, by: str = "") -> MergeRecord:
        """Merge two active customers by hand; the older id (the smaller) survives.
        MasteringRefused for an inactive id, the same id twice, or two national codes
        unless ``force``."""
        survivor, absorbed = sorted((a, b))
        with unit_of_work(self.engine, f"merging customers {a} and {b}") as conn:
            lock(conn, "match")
            return merge_masters(conn, self.masters(), survivor, absorbed, kind="manual",
                                 by=by, force=force)

    def unmerge(self, target: str) -> Unmerged:
        """Undo a merge: by its history id, by the merged-away id, or the newest merge
        into a survivor's id."""
        with unit_of_work(self.engine, f"unmerging {target}") as conn:
            lock(conn, "match")
            return unmerge(conn, self.masters(), target)

    def merge_history(self, master_id: str) -> list[MergeRecord]:
        """The merges ``master_id`` took part in, newest first."""
        return read(self.engine, f"reading the merge history of {master_id}",
                    lambda conn: merges_of(conn, master_id))

    def erase(self, master_id: str, *, request: str | None = None) -> dict[str, int]:
        """Carry out a right-to-be-forgotten request (hub.store.erase); rows removed or
        blanked per table."""
        with unit_of_work(self.engine, f"erasing customer {master_id}") as conn:
            lock(conn, "match")
            return erase(conn, master_id, request=request)

    def _masters(self) -> MasterRepository:
        return self.masters()
