"""``simulate``: a fresh simulated GCX world, one day at a time.

The run replaces the previous simulated world: it truncates the exchange tables and clears
``<GCX_HOME>/landing`` and ``<GCX_HOME>/truth``. Then, for every calendar day of the period, it
generates the day (exchange rows on trading days, compliance drops on trading days with content,
platform events every day), hands the exchange rows to the background writer and writes the files,
so memory holds a few days at most. The same seed and options give byte-identical output.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from gcx import database
from gcx.exchange_source import ensure_schema
from gcx.settings import Settings, get_settings
from gcx.simulator import compliance, filedrops, platform_events
from gcx.simulator.episodes import EPISODE_TYPES, EpisodeInjector, write_episodes
from gcx.simulator.faults import BadRecordLog, corrupt_trades
from gcx.simulator.market import (
    DayDraft,
    DayMarket,
    PriceState,
    add_normal_flow,
    assemble,
    order_events_table,
    orders_table,
    trade_ids,
    trades_table,
)
from gcx.simulator.randomness import Stream, rng_for
from gcx.simulator.receipts import deposit_receipts
from gcx.simulator.reference import WAREHOUSES, build_reference, reference_tables
from gcx.simulator.settlement import MemberSettlementRecord, settle, settlements_table
from gcx.simulator.trading_calendar import (
    SUPPORTED_YEARS,
    US_PER_DAY,
    TradingCalendar,
    calendar_table,
    day_number,
)
from gcx.simulator.writer import ExchangeWriter, reset_exchange

CALENDAR_MARGIN = timedelta(days=30)


@dataclass
class SimulationSummary:
    """What a simulation wrote: rows per exchange table, rows and files per dataset, truth counts."""

    start: date
    end: date
    """Last simulated day (inclusive)."""
    seed: int
    scale: float
    bad_rate: float
    trading_days: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    """Rows per file dataset, e.g. {"compliance/kyc_checks": 812}."""
    file_count: dict[str, int] = field(default_factory=dict)
    episodes: dict[str, int] = field(default_factory=dict)
    bad_records: dict[str, int] = field(default_factory=dict)
    limit_breaches: int = 0
    member_defaults: int = 0
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"Simulated GCX {self.start} .. {self.end} ({self.trading_days} trading days), seed {self.seed}, "
            f"scale {self.scale:g}, bad rate {self.bad_rate:g}, in {self.elapsed_s:.1f} s",
            "exchange database (tables truncated and refilled):",
            *(f"  {name:<20} {rows:>12,}" for name, rows in self.tables.items()),
            "file drops under landing/ (cleared first): rows (files)",
            *(f"  {name:<32} {rows:>10,} ({self.file_count[name]})" for name, rows in self.files.items()),
            "ground truth under truth/ (cleared first):",
            *(f"  episodes {kind:<20} {count:>6}" for kind, count in self.episodes.items()),
            f"  limit breaches {self.limit_breaches:>20}",
            f"  member defaults {self.member_defaults:>19}",
            *(f"  bad records {name:<30} {count:>6}" for name, count in self.bad_records.items()),
        ]
        return out


def _check_period(start: date, days: int) -> None:
    last = start + timedelta(days=days - 1)
    if days < 1:
        raise ValueError("days must be at least 1")
    if start.year < SUPPORTED_YEARS[0] or last.year > SUPPORTED_YEARS[1]:
        raise ValueError(
            f"the trading calendar knows Ghana's Eid holidays for {SUPPORTED_YEARS[0]}-{SUPPORTED_YEARS[1]} only; "
            f"{start}..{last} is outside"
        )


def _no_session_message(calendar: TradingCalendar, first: date, last: date) -> str:
    closed = [
        f"{day:%a %d %b} ({calendar.holidays.get(day, 'weekend')})"
        for day in calendar.days()
        if first <= day <= last
    ]
    return (
        f"{first} .. {last} holds no trading day, so nothing would trade: {', '.join(closed)}. "
        f"The next session is {calendar.next_trading_day(last)}; choose a window that includes one."
    )


def _fresh_folders(settings: Settings) -> None:
    for folder in (settings.landing_dir, settings.truth_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def simulate(
    start: date,
    days: int,
    seed: int,
    scale: float = 1.0,
    bad_rate: float = 0.0,
    settings: Settings | None = None,
) -> SimulationSummary:
    """Replace the simulated world with ``days`` calendar days from ``start``.

    ``scale`` 1 is GCX's real size (tens of trades a day); ``bad_rate`` is the share of records
    given an injected fault (logged in ``truth/bad_records.jsonl``).
    """
    _check_period(start, days)
    if scale <= 0 or not 0 <= bad_rate < 1:
        raise ValueError("scale must be positive and bad_rate in [0, 1)")
    began = time.perf_counter()
    settings = settings or get_settings()
    end = start + timedelta(days=days)  # exclusive
    end_us = day_number(end) * US_PER_DAY
    calendar = TradingCalendar.covering(start - CALENDAR_MARGIN, end - timedelta(days=1) + CALENDAR_MARGIN)
    if not calendar.trading_days(start, end):
        raise ValueError(_no_session_message(calendar, start, end - timedelta(days=1)))

    database.ensure_databases(settings)
    with database.connect("exchange", settings=settings) as conn:
        ensure_schema(conn)
        reset_exchange(conn)
    _fresh_folders(settings)

    reference = build_reference(rng_for(seed, Stream.REFERENCE), start, end, scale)
    prices = PriceState.initial(reference, rng_for(seed, Stream.PRICES), start)
    injector = EpisodeInjector(reference, scale)
    desk = compliance.ComplianceDesk(reference, calendar, start, end, scale, rng_for(seed, Stream.COMPLIANCE))
    users = platform_events.UserBase(reference, start, scale, rng_for(seed, Stream.PLATFORM))
    settlement_record = MemberSettlementRecord.empty(len(reference.members))
    receipt_serial = np.ones(len(WAREHOUSES), dtype=np.int64)
    next_order, next_event, next_trade, next_settlement = 1, 1, 1, 1
    summary = SimulationSummary(start, end - timedelta(days=1), seed, scale, bad_rate)
    files: dict[str, int] = {}
    file_count: dict[str, int] = {}
    episode_counts: Counter[str] = Counter()

    truth = settings.truth_dir
    bad_records = BadRecordLog.open(truth / "bad_records.jsonl", append=False)
    breaches = compliance.LimitBreaches(truth / "limit_breaches.csv")
    with (
        (truth / "episodes.jsonl").open("w", encoding="utf-8") as episodes_file,
        ExchangeWriter(settings) as writer,
    ):
        writer.write([("trading_calendar", calendar_table(calendar)), *reference_tables(reference, end)])
        for offset in range(days):
            day = start + timedelta(days=offset)
            number = day_number(day)
            fault_rng = rng_for(seed, Stream.FAULTS, day)
            drops: dict[filedrops.FileDataset, list[filedrops.Row]] = {}
            if calendar.is_trading_day(day):
                summary.trading_days += 1
                episode_rng = rng_for(seed, Stream.EPISODES, day)
                injector.push_prices(prices, number, episode_rng)
                market = DayMarket.for_day(reference, day, prices, rng_for(seed, Stream.PRICES, day))
                effects, markings = injector.plan(market, episode_rng)
                draft = DayDraft()
                add_normal_flow(
                    draft,
                    market,
                    rng_for(seed, Stream.MARKET, day),
                    scale,
                    effects.activity_boost,
                    effects.close_cutoff_us,
                )
                injector.inject(draft, market, episode_rng, markings)
                book = assemble(draft, market, next_order, next_event, next_trade)
                next_order += len(book.orders["order_id"])
                next_event += len(book.events["event_id"])
                next_trade += len(book.trades["trade_number"])
                finished = injector.collect(book)
                write_episodes(episodes_file, finished, reference)
                episode_counts.update(e.type for e in finished)

                values, faults = corrupt_trades(book, market, fault_rng, bad_rate)
                ids = trade_ids(book)
                for position, fault in faults:
                    bad_records.record("exchange", "trades", ids[position].as_py(), fault)
                settlements = settle(
                    book,
                    reference,
                    calendar,
                    rng_for(seed, Stream.SETTLEMENT, day),
                    end_us,
                    next_settlement,
                    settlement_record,
                )
                next_settlement += len(settlements)
                writer.write(
                    [
                        ("orders", orders_table(book, reference)),
                        ("order_events", order_events_table(book)),
                        ("trades", trades_table(book, values, reference, ids, book.trades["executed_us"])),
                        ("settlements", settlements_table(settlements, reference, ids)),
                        (
                            "warehouse_receipts",
                            deposit_receipts(
                                market, rng_for(seed, Stream.RECEIPTS, day), scale, receipt_serial, end_us
                            ),
                        ),
                    ]
                )
                drops.update(desk.rows_for_day(rng_for(seed, Stream.COMPLIANCE, day), day))
                clean = np.ones(len(book.trades["trade_number"]), dtype=bool)
                clean[[position for position, _ in faults]] = False
                breaches.check(reference, desk, day, book.trades, clean)
            drops.update(users.rows_for_day(rng_for(seed, Stream.PLATFORM, day), day))
            for dataset, rows in drops.items():
                if not rows:
                    continue
                content = filedrops.render(dataset, rows, day, fault_rng, bad_rate, bad_records)
                filedrops.write_drop(settings.landing_dir, dataset, day, content)
                key = f"{dataset.source}/{dataset.name}"
                files[key] = files.get(key, 0) + len(rows)
                file_count[key] = file_count.get(key, 0) + 1
        unfinished = injector.close_open_episodes()
        write_episodes(episodes_file, unfinished, reference)
        episode_counts.update(e.type for e in unfinished)
    bad_records.close()
    breaches.close()
    summary.member_defaults = settlement_record.write_truth(truth / "member_defaults.csv", reference.members)
    summary.tables = dict(writer.rows)
    summary.files = files
    summary.file_count = file_count
    summary.episodes = {kind: episode_counts[kind] for kind in EPISODE_TYPES}
    summary.bad_records = dict(sorted(bad_records.counts.items()))
    summary.limit_breaches = breaches.count
    summary.elapsed_s = time.perf_counter() - began
    return summary
