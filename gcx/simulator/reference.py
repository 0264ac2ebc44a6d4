"""Reference data of the simulated exchange: warehouses, commodities, instruments, members,
beneficial owners and accounts, with the hidden traits (activity, risk profile) that drive the flow.

The instrument list is fixed (a realistic GCX board, stable across seeds so consumers can rely on
it); which instruments are listed or delisted during the simulated period, and everything about
members, owners and accounts, is drawn from the seed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from gcx.simulator import columns, identities
from gcx.simulator.trading_calendar import US_PER_DAY, day_number

GCX_LAUNCH = date(2018, 11, 16)
NEVER = 2**31 - 1
"""Day number standing for "not (yet) happened" in delisting, closing and suspension dates."""

SYMBOL_PATTERN = re.compile(r"^G(AP|EJ|KI|KU|SA|TA|TU|WA|WE)([WY]M|SB|SO|SS|MR)([1-4])$")


@dataclass(frozen=True)
class Warehouse:
    code: str
    town: str
    region: str
    capacity_t: int
    price_factor: float
    """Local price level: consumption centres pay more than northern producing areas."""


WAREHOUSES = (
    Warehouse("AP", "Apam", "Central", 12_000, 1.03),
    Warehouse("EJ", "Ejura", "Ashanti", 30_000, 1.00),
    Warehouse("KI", "Kintampo", "Bono East", 20_000, 0.99),
    Warehouse("KU", "Kumasi", "Ashanti", 25_000, 1.03),
    Warehouse("SA", "Sandema", "Upper East", 10_000, 0.97),
    Warehouse("TA", "Tamale", "Northern", 40_000, 0.98),
    Warehouse("TU", "Tumu", "Upper West", 10_000, 0.96),
    Warehouse("WA", "Wa", "Upper West", 15_000, 0.97),
    Warehouse("WE", "Wenchi", "Bono", 20_000, 1.00),
)
WAREHOUSE_INDEX = {w.code: i for i, w in enumerate(WAREHOUSES)}


@dataclass(frozen=True)
class Commodity:
    code: str
    """WM YM SB SO SS MR, also the commodity part of the symbol (colour letter + M for maize)."""
    name: str
    colour: str | None
    band_ghs_per_t: tuple[int, int]
    """Prices of every grade stay inside this band (GHS per metric tonne)."""
    tick_ghs: float
    lot_t: int
    activity: float


COMMODITIES = (
    Commodity("WM", "maize", "white", (2500, 4500), 0.50, 50, 1.00),
    Commodity("YM", "maize", "yellow", (2500, 4500), 0.50, 50, 0.45),
    Commodity("SB", "soybean", None, (4000, 6500), 0.10, 10, 0.35),
    Commodity("SO", "sorghum", None, (2500, 4000), 0.05, 50, 0.25),
    Commodity("SS", "sesame", None, (5500, 7500), 1.00, 10, 0.15),
    Commodity("MR", "milled rice", None, (4500, 7000), 0.01, 10, 0.20),
)
COMMODITY_INDEX = {c.code: i for i, c in enumerate(COMMODITIES)}
GRADE_PRICE_FACTOR = {1: 1.00, 2: 0.95, 3: 0.89, 4: 0.82}
GRADE_ACTIVITY = {1: 1.0, 2: 1.3, 3: 0.5, 4: 0.25}
LOW_GRADE_TICK_GHS = 1.00
"""Maize of grade 3-4 trades on a coarser 1 GHS tick."""

BOARD = (
    "GEJWM1", "GEJWM2", "GEJWM3", "GEJWM4", "GKUWM1", "GKUWM2", "GKIWM1", "GKIWM2", "GWEWM1", "GWEWM2",
    "GTAWM1", "GTAWM2", "GAPWM2", "GTUWM2", "GWAWM2", "GSAWM3", "GKUYM1", "GKUYM2", "GEJYM2", "GTAYM2",
    "GWEYM2", "GTASB1", "GTASB2", "GWASB2", "GTUSB2", "GSASB3", "GTASO2", "GTASO3", "GSASO2", "GWASO3",
    "GTUSO3", "GSASO4", "GTASS1", "GSASS2", "GWASS2", "GTAMR1", "GKUMR2", "GAPMR2",
)  # fmt: skip
"""The instruments GCX lists in the simulation (instrument_id = position + 1)."""

MEMBER_TYPES = ("broker", "bank", "trader", "processor")
MEMBER_TYPE_SHARES = (0.45, 0.15, 0.22, 0.18)
MEMBER_NAME_STEMS = (
    "Akuapem", "Asante", "Volta", "Savannah", "Bono", "Pra River", "Akwaaba", "Sankofa", "Adinkra",
    "Nkabom", "Ahenfie", "Gye Nyame", "Afram", "Densu", "Tano", "Ankobra", "Kwahu", "Nzema", "Dagbon",
    "Mamprusi", "Gonja", "Sahel Gold", "Black Star", "Golden Stool", "Abusua", "Nyansapo", "Oti", "Sisili",
    "Nasia", "White Volta", "Daka", "Tain", "Pru", "Offin", "Birim", "Ayensu", "Kulpawn", "Sene",
    "Atlantic", "Harmattan", "Cocoa Coast", "Kente", "Akoben", "Fawohodie", "Ebony", "Baobab", "Shea Belt",
    "Kintampo Gateway", "Ridge", "Osu", "Labadi", "Legon", "Tema Bay", "Keta", "Elmina", "Wassa", "Sefwi",
    "Bawku", "Yendi", "Salaga", "Nkwanta", "Hohoe", "Aflao",
)  # fmt: skip
MEMBER_NAME_SUFFIXES = {
    "broker": ("Commodity Brokers Ltd", "Securities Ltd", "Capital Markets Ltd", "Brokerage Services Ltd"),
    "bank": ("Bank Ghana Ltd", "Rural Bank PLC", "Savings and Loans Ltd"),
    "trader": ("Grains Enterprise", "Agro Ventures Ltd", "Commodities Trading Ltd", "Farms Aggregators Ltd"),
    "processor": ("Feed Mills Ltd", "Agro Processing Ltd", "Poultry Farms Ltd", "Foods Ltd"),
}
BUY_PROPENSITY = {"broker": 1.0, "bank": 1.0, "trader": 0.7, "processor": 1.7}
"""Relative tendency of an account to buy rather than sell, by the member's business."""


@dataclass(frozen=True)
class Instruments:
    instrument_id: np.ndarray
    symbol: list[str]
    commodity: np.ndarray  # index into COMMODITIES
    grade: np.ndarray
    warehouse: np.ndarray  # index into WAREHOUSES
    tick_cents: np.ndarray
    lot_t: np.ndarray
    listed_day: np.ndarray
    delisted_day: np.ndarray  # NEVER when still listed
    base_price_cents: np.ndarray  # long-run fair price of this grade at this warehouse
    band_low_cents: np.ndarray
    band_high_cents: np.ndarray
    activity: np.ndarray  # share of the exchange's trades (sums to 1)

    def __len__(self) -> int:
        return len(self.symbol)

    def listed_on(self, day: int) -> np.ndarray:
        return (self.listed_day <= day) & (day < self.delisted_day)


@dataclass(frozen=True)
class Members:
    member_id: list[str]
    name: list[str]
    member_type: np.ndarray  # index into MEMBER_TYPES
    registered_day: np.ndarray
    terminated_day: np.ndarray  # NEVER unless terminated
    activity: np.ndarray
    distressed: np.ndarray  # bool: the weak members who end up failing settlement
    distress_from_day: np.ndarray  # NEVER for healthy members
    default_day: np.ndarray  # from here most obligations fail
    suspended_day: np.ndarray  # NEVER unless suspended for failing settlement
    limit_factor: np.ndarray  # position limit as a multiple of typical daily net; low = often breached
    contact_email: list[str]
    contact_phone: list[str]

    def __len__(self) -> int:
        return len(self.member_id)

    def trading_on(self, day: int) -> np.ndarray:
        return (self.registered_day <= day) & (day < self.suspended_day) & (day < self.terminated_day)


@dataclass(frozen=True)
class Owners:
    owner_id: list[str]
    full_name: list[str]
    national_id: list[str]
    email: list[str]
    phone: list[str]
    birth_day: np.ndarray
    country: list[str]
    created_day: np.ndarray

    def __len__(self) -> int:
        return len(self.owner_id)


@dataclass(frozen=True)
class Accounts:
    account_id: list[str]
    member: np.ndarray
    owner: np.ndarray
    proprietary: np.ndarray  # bool
    opened_us: np.ndarray
    closed_us: np.ndarray  # -1 when open
    activity: np.ndarray
    buy_propensity: np.ndarray

    def __len__(self) -> int:
        return len(self.account_id)

    def tradable_on(self, day: int, members: Members) -> np.ndarray:
        """Accounts open for the whole session of ``day`` whose member may trade that day."""
        day_start, day_end = day * US_PER_DAY, (day + 1) * US_PER_DAY
        is_open = (self.opened_us < day_start) & ((self.closed_us < 0) | (self.closed_us >= day_end))
        return is_open & members.trading_on(day)[self.member]


@dataclass(frozen=True)
class Reference:
    instruments: Instruments
    members: Members
    owners: Owners
    accounts: Accounts
    multi_member_owners: np.ndarray
    """Owners holding accounts at two different members: the raw material of wash trades."""
    sanctioned_owner: int
    """One owner who is on a sanctions list (screenings find a confirmed match)."""
    created_us: int
    """When the reference data that predates the simulation was written (its updated_at)."""


def member_count(scale: float) -> int:
    """About 24 members at real size, up to 60 at stress scale."""
    return int(np.clip(round(24 + 12 * math.log10(max(scale, 0.1))), 20, 60))


def parse_symbol(symbol: str) -> tuple[str, str, int]:
    """(warehouse code, commodity code, grade) of a GCX symbol; ValueError if it is not one."""
    match = SYMBOL_PATTERN.match(symbol)
    if not match:
        raise ValueError(f"not a GCX symbol: {symbol!r}")
    return match.group(1), match.group(2), int(match.group(3))


def _cents(ghs: float) -> int:
    return round(ghs * 100)


def _build_instruments(rng: np.random.Generator, start: int, end: int) -> Instruments:
    n = len(BOARD)
    parsed = [parse_symbol(s) for s in BOARD]
    commodity = np.array([COMMODITY_INDEX[c] for _, c, _ in parsed])
    grade = np.array([g for _, _, g in parsed])
    warehouse = np.array([WAREHOUSE_INDEX[w] for w, _, _ in parsed])
    tick = np.array(
        [
            _cents(LOW_GRADE_TICK_GHS if COMMODITIES[c].colour and g >= 3 else COMMODITIES[c].tick_ghs)
            for c, g in zip(commodity, grade, strict=True)
        ]
    )
    lot = np.array([COMMODITIES[c].lot_t for c in commodity])
    low = np.array([_cents(COMMODITIES[c].band_ghs_per_t[0]) for c in commodity])
    high = np.array([_cents(COMMODITIES[c].band_ghs_per_t[1]) for c in commodity])
    # round the band inwards to whole ticks so a clipped price is still on the tick grid
    low = -(-low // tick) * tick
    high = high // tick * tick
    grade_factor = np.array([GRADE_PRICE_FACTOR[g] for g in grade])
    local = np.array([WAREHOUSES[w].price_factor for w in warehouse])
    base = (low + 0.66 * (high - low)) * grade_factor * local

    activity = np.array([COMMODITIES[c].activity for c in commodity]) * np.array(
        [GRADE_ACTIVITY[g] for g in grade]
    )
    activity = activity * rng.lognormal(0.0, 0.5, n)

    span = max(end - start, 1)
    launch = day_number(GCX_LAUNCH)
    listed = rng.integers(launch, max(launch + 1, start - 60), n)
    delisted = np.full(n, NEVER, dtype=np.int64)
    # a few instruments join the board during the period and one or two leave it
    quiet = np.argsort(activity, kind="stable")[: n // 2]
    chosen = rng.choice(quiet, size=5, replace=False)
    new_listings, delistings = chosen[:3], chosen[3 : 3 + (2 if span >= 20 else 1)]
    listed[new_listings] = start + (rng.uniform(0.15, 0.6, len(new_listings)) * span).astype(np.int64)
    delisted[delistings] = start + (rng.uniform(0.4, 0.85, len(delistings)) * span).astype(np.int64)
    return Instruments(
        instrument_id=np.arange(1, n + 1),
        symbol=list(BOARD),
        commodity=commodity,
        grade=grade,
        warehouse=warehouse,
        tick_cents=tick,
        lot_t=lot,
        listed_day=listed,
        delisted_day=delisted,
        base_price_cents=base,
        band_low_cents=low,
        band_high_cents=high,
        activity=activity / activity.sum(),
    )


def _member_names(rng: np.random.Generator, types: np.ndarray) -> list[str]:
    stems = rng.permutation(len(MEMBER_NAME_STEMS))
    names = []
    for i, t in enumerate(types):
        suffixes = MEMBER_NAME_SUFFIXES[MEMBER_TYPES[t]]
        names.append(
            f"{MEMBER_NAME_STEMS[stems[i % len(stems)]]} {suffixes[int(rng.integers(len(suffixes)))]}"
        )
    return names


def _build_members(rng: np.random.Generator, scale: float, start: int, end: int) -> Members:
    n = member_count(scale)
    span = max(end - start, 1)
    types = rng.choice(len(MEMBER_TYPES), size=n, p=MEMBER_TYPE_SHARES)
    types[:4] = np.arange(4)  # every kind of member is present
    launch = day_number(GCX_LAUNCH)
    registered = rng.integers(launch, start - 90, n)
    late_joiners = rng.choice(np.arange(4, n), size=max(1, n // 20), replace=False)
    registered[late_joiners] = start + (rng.uniform(0.05, 0.5, len(late_joiners)) * span).astype(np.int64)
    terminated = np.full(n, NEVER, dtype=np.int64)
    terminated[n - 1] = start - int(rng.integers(100, 300))
    registered[n - 1] = min(registered[n - 1], terminated[n - 1] - 400)

    activity = rng.lognormal(0.0, 0.7, n) * np.where(types == MEMBER_TYPES.index("bank"), 1.5, 1.0)
    # weak members: brokers or traders whose settlement deteriorates, then fails, then are suspended
    candidates = np.flatnonzero(
        np.isin(types, [MEMBER_TYPES.index("broker"), MEMBER_TYPES.index("trader")])
        & (terminated == NEVER)
        & (registered < start)
    )
    distressed_idx = rng.choice(candidates, size=min(len(candidates), 1 + n // 25), replace=False)
    distressed = np.zeros(n, dtype=bool)
    distressed[distressed_idx] = True
    distress_from = np.full(n, NEVER, dtype=np.int64)
    default_day = np.full(n, NEVER, dtype=np.int64)
    suspended = np.full(n, NEVER, dtype=np.int64)
    k = len(distressed_idx)
    distress_from[distressed_idx] = start + (rng.uniform(0.1, 0.4, k) * span).astype(np.int64)
    default_day[distressed_idx] = distress_from[distressed_idx] + np.maximum(
        1, (rng.uniform(0.2, 0.35, k) * span).astype(np.int64)
    )
    suspended[distressed_idx] = default_day[distressed_idx] + np.maximum(2, span // 8)
    limit_factor = rng.uniform(3.0, 5.0, n)
    breachers = rng.choice(np.arange(n - 1), size=max(2, n // 12), replace=False)
    limit_factor[breachers] = rng.uniform(1.0, 1.6, len(breachers))

    names = _member_names(rng, types)
    slugs = [re.sub(r"[^a-z]", "", name.lower().split(" ltd")[0].split(" plc")[0])[:18] for name in names]
    return Members(
        member_id=[f"MBR{i + 1:04d}" for i in range(n)],
        name=names,
        member_type=types,
        registered_day=registered,
        terminated_day=terminated,
        activity=activity,
        distressed=distressed,
        distress_from_day=distress_from,
        default_day=default_day,
        suspended_day=suspended,
        limit_factor=limit_factor,
        contact_email=[f"info@{slug}.com.gh" for slug in slugs],
        contact_phone=[f"+23330{int(x):07d}" for x in rng.integers(0, 10_000_000, n)],
    )


def _build_owners_and_accounts(
    rng: np.random.Generator, members: Members, start: int, end: int
) -> tuple[Owners, Accounts, np.ndarray]:
    n_members = len(members)
    n_owners = 8 * n_members
    span = max(end - start, 1)
    names = identities.person_names(rng, n_owners)
    owners_created = np.empty(n_owners, dtype=np.int64)

    member_of, owner_of, proprietary, opened_day, closed_day = [], [], [], [], []

    def open_account(member: int, owner: int, is_prop: bool, day: int) -> None:
        member_of.append(member)
        owner_of.append(owner)
        proprietary.append(is_prop)
        opened_day.append(day)
        closed_day.append(
            members.terminated_day[member] if members.terminated_day[member] != NEVER else NEVER
        )

    # owners 0..n_members-1 are the members' principals, holding the proprietary accounts
    for m in range(n_members):
        open_account(m, m, True, int(members.registered_day[m]) + 3)
        owners_created[m] = members.registered_day[m]
        if members.member_type[m] != MEMBER_TYPES.index("broker") and rng.random() < 0.4:
            open_account(m, m, True, int(members.registered_day[m]) + 30)

    # clients bank with brokers mostly, banks sometimes
    client_weight = np.select(
        [
            members.member_type == MEMBER_TYPES.index("broker"),
            members.member_type == MEMBER_TYPES.index("bank"),
        ],
        [4.0, 1.5],
        0.15,
    ) * (members.terminated_day == NEVER)
    client_weight = client_weight / client_weight.sum()
    clients = np.arange(n_members, n_owners)
    first_member = rng.choice(n_members, size=len(clients), p=client_weight)
    two_members = rng.random(len(clients)) < 0.08
    for owner, member, twice in zip(clients, first_member, two_members, strict=True):
        earliest = int(members.registered_day[member]) + 5
        if rng.random() < 0.15:
            day = start + int(rng.uniform(0.0, 0.7) * span)
        else:
            day = int(rng.integers(earliest, max(earliest + 1, start - 1)))
        day = max(day, earliest)
        owners_created[owner] = day - 2
        open_account(int(member), int(owner), False, day)
        if twice:
            others = np.flatnonzero((np.arange(n_members) != member) & (members.terminated_day == NEVER))
            other = int(rng.choice(others))
            open_account(other, int(owner), False, max(day, int(members.registered_day[other]) + 5) + 20)

    n_accounts = len(member_of)
    member_arr = np.array(member_of)
    owner_arr = np.array(owner_of)
    opened = np.array(opened_day, dtype=np.int64)
    closed = np.array(closed_day, dtype=np.int64)
    # a few client accounts close during the period
    closable = np.flatnonzero(~np.array(proprietary) & (opened < start) & (closed == NEVER))
    closing = rng.choice(closable, size=max(1, len(closable) // 30), replace=False)
    closed[closing] = start + (rng.uniform(0.2, 0.95, len(closing)) * span).astype(np.int64)

    hours = rng.uniform(8.0, 16.0, n_accounts)
    opened_us = opened * US_PER_DAY + (hours * 3600e6).astype(np.int64)
    closed_us = np.where(closed == NEVER, -1, closed * US_PER_DAY + int(15.5 * 3600e6))
    member_types = members.member_type[member_arr]
    buy_propensity = np.array([BUY_PROPENSITY[MEMBER_TYPES[t]] for t in member_types]) * rng.lognormal(
        0.0, 0.2, n_accounts
    )
    activity = members.activity[member_arr] * rng.lognormal(0.0, 0.9, n_accounts)
    activity[np.array(proprietary)] *= 3.0

    at_second_member = np.r_[False, (owner_arr[1:] == owner_arr[:-1]) & (member_arr[1:] != member_arr[:-1])]
    multi = np.unique(owner_arr[at_second_member])
    owners = Owners(
        owner_id=[f"BO{i + 1:06d}" for i in range(n_owners)],
        full_name=names,
        national_id=identities.ghana_card_ids(rng, n_owners),
        email=identities.personal_emails(rng, names, rng.integers(1, 999, n_owners)),
        phone=identities.ghana_mobiles(rng, n_owners),
        birth_day=rng.integers(day_number(date(1955, 1, 1)), day_number(date(2002, 12, 31)), n_owners),
        country=identities.countries(rng, n_owners),
        created_day=owners_created,
    )
    accounts = Accounts(
        account_id=[f"ACC{i + 1:06d}" for i in range(n_accounts)],
        member=member_arr,
        owner=owner_arr,
        proprietary=np.array(proprietary),
        opened_us=opened_us,
        closed_us=closed_us,
        activity=activity,
        buy_propensity=buy_propensity,
    )
    return owners, accounts, multi


def build_reference(rng: np.random.Generator, start: date, end_exclusive: date, scale: float) -> Reference:
    """The simulated exchange's reference data for the period [start, end_exclusive)."""
    start_day, end_day = day_number(start), day_number(end_exclusive)
    instruments = _build_instruments(rng, start_day, end_day)
    members = _build_members(rng, scale, start_day, end_day)
    owners, accounts, multi = _build_owners_and_accounts(rng, members, start_day, end_day)
    clients = np.arange(len(members), len(owners))
    return Reference(
        instruments=instruments,
        members=members,
        owners=owners,
        accounts=accounts,
        multi_member_owners=multi,
        sanctioned_owner=int(rng.choice(clients)),
        created_us=day_number(start - timedelta(days=1)) * US_PER_DAY + 6 * 3600 * 1_000_000,
    )


def reference_tables(reference: Reference, end_exclusive: date) -> list[tuple[str, pa.Table]]:
    """Warehouses, instruments, members, beneficial owners and accounts as of the end of the period.

    ``updated_at`` is when each row last changed on or before the end (listing, delisting,
    suspension, closing), never the time the simulator ran. Rows unchanged since before the
    exchange system went live (``created_us``, the day before the period) carry the go-live time,
    as rows migrated into a new system do; so the lakehouse's history starts there rather than
    at a member's registration years earlier. Accounts opened after the end do not exist yet.
    """
    end_day = day_number(end_exclusive)
    end_us = end_day * US_PER_DAY
    hour = 3600 * 1_000_000
    created = np.int64(reference.created_us)
    ins, mem, own, acc = reference.instruments, reference.members, reference.owners, reference.accounts

    delisted = ins.delisted_day < end_day
    instrument_changed = np.where(delisted, ins.delisted_day, ins.listed_day) * US_PER_DAY + 7 * hour
    suspended = mem.suspended_day < end_day
    terminated = mem.terminated_day != NEVER
    member_status = np.select([terminated, suspended], [2, 1], 0)
    member_changed = (
        np.select([terminated, suspended], [mem.terminated_day, mem.suspended_day], mem.registered_day)
        * US_PER_DAY
        + np.where(terminated | suspended, 17, 9) * hour
    )
    closed = (acc.closed_us >= 0) & (acc.closed_us < end_us)
    frozen = ~closed & suspended[acc.member]
    # an account opened after its member's suspension is frozen from the moment it opens
    frozen_us = np.maximum(mem.suspended_day[acc.member] * US_PER_DAY + 17 * hour, acc.opened_us)
    account_status = np.select([closed, frozen], [2, 1], 0)
    account_changed = np.select([closed, frozen], [acc.closed_us, frozen_us], acc.opened_us)
    opened = acc.opened_us < end_us
    commodity_codes = [c.code for c in COMMODITIES]
    return [
        (
            "warehouses",
            pa.table(
                {
                    "warehouse_code": pa.array([w.code for w in WAREHOUSES]),
                    "name": pa.array([f"{w.town} warehouse" for w in WAREHOUSES]),
                    "region": pa.array([w.region for w in WAREHOUSES]),
                    "capacity_t": pa.array([w.capacity_t for w in WAREHOUSES], pa.int64()),
                    "updated_at": columns.timestamps(np.full(len(WAREHOUSES), created)),
                }
            ),
        ),
        (
            "instruments",
            pa.table(
                {
                    "instrument_id": columns.integers(ins.instrument_id),
                    "symbol": pa.array(ins.symbol),
                    "venue": pa.array(["GCX"] * len(ins)),
                    "commodity_code": columns.texts(commodity_codes, ins.commodity),
                    "commodity_name": columns.texts([c.name for c in COMMODITIES], ins.commodity),
                    "colour": pa.array([COMMODITIES[c].colour for c in ins.commodity], pa.string()),
                    "grade": columns.integers(ins.grade),
                    "warehouse_code": columns.texts([w.code for w in WAREHOUSES], ins.warehouse),
                    "tick_size_ghs": columns.decimals(ins.tick_cents),
                    "lot_size_t": columns.integers(ins.lot_t),
                    "listed_on": columns.dates(ins.listed_day),
                    "delisted_on": columns.dates(np.where(delisted, ins.delisted_day, 0), null=~delisted),
                    "updated_at": columns.timestamps(np.maximum(instrument_changed, created)),
                }
            ),
        ),
        (
            "members",
            pa.table(
                {
                    "member_id": pa.array(mem.member_id),
                    "name": pa.array(mem.name),
                    "member_type": columns.texts(MEMBER_TYPES, mem.member_type),
                    "registered_on": columns.dates(mem.registered_day),
                    "status": columns.texts(("active", "suspended", "terminated"), member_status),
                    "contact_email": pa.array(mem.contact_email),
                    "contact_phone": pa.array(mem.contact_phone),
                    "updated_at": columns.timestamps(np.maximum(member_changed, created)),
                }
            ),
        ),
        (
            "beneficial_owners",
            pa.table(
                {
                    "owner_id": pa.array(own.owner_id),
                    "full_name": pa.array(own.full_name),
                    "national_id": pa.array(own.national_id),
                    "email": pa.array(own.email),
                    "phone": pa.array(own.phone),
                    "date_of_birth": columns.dates(own.birth_day),
                    "country": pa.array(own.country),
                    "updated_at": columns.timestamps(
                        np.maximum(own.created_day * US_PER_DAY + 9 * hour, created)
                    ),
                }
            ),
        ),
        (
            "accounts",
            pa.table(
                {
                    "account_id": pa.array(acc.account_id),
                    "member_id": columns.texts(mem.member_id, acc.member),
                    "owner_id": columns.texts(own.owner_id, acc.owner),
                    "account_type": columns.texts(
                        ("client", "proprietary"), acc.proprietary.astype(np.int64)
                    ),
                    "opened_at": columns.timestamps(acc.opened_us),
                    "closed_at": columns.timestamps(np.maximum(acc.closed_us, 0), null=~closed),
                    "status": columns.texts(("open", "frozen", "closed"), account_status),
                    "updated_at": columns.timestamps(np.maximum(account_changed, created)),
                }
            ).filter(pa.array(opened)),
        ),
    ]
