"""Platform events of GCX's data platform users: sign-ups, subscriptions, API calls, app sessions.

One JSON-lines file per dataset per calendar day (weekends too, with less activity). The user base
grows (sign-ups rise over time), churns (a third of sign-ups leave within weeks, the rest after
months), and each user has a personal visit propensity with a weekday rhythm, so DAU/WAU/MAU and
retention cohorts computed downstream behave like a real product's. The first day's users file also
carries the users who signed up before the simulated period (an initial snapshot).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from gcx.simulator import identities
from gcx.simulator.filedrops import Field, FileDataset, Row
from gcx.simulator.reference import Reference
from gcx.simulator.trading_calendar import US_PER_DAY, day_number, iso_utc

USERS = FileDataset(
    "platform",
    "users",
    (
        Field("user_id", "id", description="U0000123"),
        Field("email", "text", description="PII"),
        Field("full_name", "text", description="PII"),
        Field("phone", "text", description="PII, E.164"),
        Field("country", "enum", description="ISO 3166-1 alpha-2"),
        Field(
            "member_id",
            "member_ref",
            required=False,
            description="the GCX member the user works for; null for the public",
        ),
        Field("role", "enum", description="trader | compliance_officer | admin | analyst | viewer"),
        Field("signed_up_at", "timestamp", description="UTC, ISO-8601 with Z, milliseconds"),
    ),
    "New users and profile updates of the day (a user appears again when their profile changes).",
)
SUBSCRIPTIONS = FileDataset(
    "platform",
    "subscriptions",
    (
        Field(
            "subscription_id",
            "id",
            description="SUB0000123, one per user; at most one event per subscription per day",
        ),
        Field("user_id", "user_ref"),
        Field("plan", "enum", description="free | member | pro"),
        Field("event", "enum", description="start | renew | change | cancel"),
        Field("occurred_at", "timestamp"),
        Field(
            "price_ghs_per_month",
            "number",
            description="free 0, member 450 (promo 400), pro 1500 (promo 1350)",
        ),
    ),
    "Subscription events: start at sign-up (free), change of plan, monthly renewal of paid plans, cancel.",
)
API_USAGE = FileDataset(
    "platform",
    "api_usage",
    (
        Field("request_id", "id", description="REQ0000000123"),
        Field("user_id", "user_ref"),
        Field("endpoint", "text", description="e.g. /v1/trades"),
        Field("requested_at", "timestamp"),
        Field("status_code", "integer", description="HTTP status"),
        Field("rows", "integer", description="rows returned (0 unless 200)"),
        Field("bytes", "integer", description="response size"),
        Field("latency_ms", "number"),
    ),
    "Dataset API requests by users on paid plans.",
)
APP_SESSIONS = FileDataset(
    "platform",
    "app_sessions",
    (
        Field("session_id", "id", description="SES000000123"),
        Field("user_id", "user_ref"),
        Field("platform", "enum", description="web | android | ios"),
        Field("started_at", "timestamp"),
        Field("ended_at", "timestamp"),
        Field("pages_viewed", "integer"),
    ),
    "Sessions in the web and mobile apps.",
)
DATASETS = (USERS, SUBSCRIPTIONS, API_USAGE, APP_SESSIONS)

ROLES = ("trader", "compliance_officer", "admin", "analyst", "viewer")
PLANS = ("free", "member", "pro")
LIST_PRICE = (0, 450, 1500)
PROMO_PRICE = (0, 400, 1350)
PLATFORMS = ("web", "android", "ios")
ENDPOINTS = ("/v1/trades", "/v1/ohlcv", "/v1/instruments", "/v1/trades/tail", "/v1/catalog", "/v1/exports")
ENDPOINT_WEIGHTS = (0.35, 0.3, 0.1, 0.12, 0.08, 0.05)
STATUS_CODES = (200, 401, 403, 404, 429, 500)
STATUS_WEIGHTS = (0.93, 0.01, 0.015, 0.015, 0.02, 0.01)
MS = 1_000


def platform_scale(scale: float) -> float:
    """Users grow with the exchange, but far slower than trades."""
    return 1.0 + math.log10(max(scale, 1.0))


def _daytime(rng: np.random.Generator, day: int, n: int) -> np.ndarray:
    """Moments of ``day`` concentrated in working hours (UTC = Ghana time), millisecond precision."""
    hours = np.clip(rng.normal(13.0, 3.5, n), 0.0, 23.999)
    return day * US_PER_DAY + (hours * 3600 * 1000).astype(np.int64) * MS


class UserBase:
    """The platform's users and their subscriptions, advanced one calendar day at a time."""

    def __init__(self, reference: Reference, start: date, scale: float, rng: np.random.Generator) -> None:
        self.reference = reference
        self.scale = platform_scale(scale)
        self.start = day_number(start)
        self.count = 0
        self.request_serial = 0
        self.session_serial = 0
        fields = ("signup_us", "churn_day", "propensity", "member", "role", "plan", "price", "paid_since",
                  "platform", "api_user")  # fmt: skip
        self.cols: dict[str, np.ndarray] = {
            f: np.zeros(0, dtype=np.float64 if f == "propensity" else np.int64) for f in fields
        }
        self.profile: dict[str, list[str]] = {"name": [], "email": [], "phone": [], "country": []}
        initial = int(150 * self.scale)
        ages = (540 * rng.beta(1.0, 2.0, initial)).astype(np.int64) + 1
        self._sign_up(
            rng, np.sort(_daytime(rng, 0, initial) + (self.start - ages) * US_PER_DAY), established=True
        )
        self.first_day = True

    def _sign_up(
        self, rng: np.random.Generator, signup_us: np.ndarray, *, established: bool = False
    ) -> np.ndarray:
        n = len(signup_us)
        signup_day = signup_us // US_PER_DAY
        one_shot = rng.random(n) < (0.1 if established else 0.35)
        lifetime = np.where(one_shot, rng.exponential(12, n), rng.exponential(320, n)).astype(np.int64) + 1
        churn = np.maximum(signup_day + lifetime, self.start + 1 if established else 0)
        members = self.reference.members
        member_staff = rng.random(n) < 0.3
        member = np.where(member_staff, rng.integers(0, len(members), n), -1)
        # a member's staff can only sign up once the member exists and before it is terminated
        joined = (member < 0) | (
            (members.registered_day[np.maximum(member, 0)] <= signup_day)
            & (members.terminated_day[np.maximum(member, 0)] > signup_day)
        )
        member = np.where(joined, member, -1)
        role = np.where(
            member >= 0, rng.choice(4, n, p=(0.45, 0.2, 0.1, 0.25)), rng.choice([3, 4], n, p=(0.4, 0.6))
        )
        plan = np.zeros(n, dtype=np.int64)
        if established:  # some early users already pay
            plan = rng.choice(3, n, p=(0.7, 0.2, 0.1))
        promo = rng.random(n) < 0.1
        price = np.where(promo, np.array(PROMO_PRICE)[plan], np.array(LIST_PRICE)[plan])
        new = {
            "signup_us": signup_us,
            "churn_day": churn,
            "propensity": rng.beta(1.2, 3.0, n),
            "member": member,
            "role": role,
            "plan": plan,
            "price": price,
            "paid_since": np.where(plan > 0, signup_day + rng.integers(0, 30, n), -1),
            "platform": rng.choice(3, n, p=(0.55, 0.35, 0.10)),
            "api_user": (rng.random(n) < 0.6).astype(np.int64),
        }
        for name, values in new.items():
            self.cols[name] = np.concatenate([self.cols[name], values])
        names = identities.person_names(rng, n)
        self.profile["name"] += names
        self.profile["email"] += identities.personal_emails(rng, names, self.count + 1 + np.arange(n))
        self.profile["phone"] += identities.ghana_mobiles(rng, n)
        self.profile["country"] += identities.countries(rng, n, share_ghana=0.8)
        users = np.arange(self.count, self.count + n)
        self.count += n
        return users

    def _user_row(self, u: int) -> Row:
        member = int(self.cols["member"][u])
        return [
            f"U{u + 1:07d}",
            self.profile["email"][u],
            self.profile["name"][u],
            self.profile["phone"][u],
            self.profile["country"][u],
            None if member < 0 else self.reference.members.member_id[member],
            ROLES[int(self.cols["role"][u])],
            iso_utc(int(self.cols["signup_us"][u]), "ms"),
        ]

    def rows_for_day(self, rng: np.random.Generator, day: date) -> dict[FileDataset, list[Row]]:
        d = day_number(day)
        weekend = day.weekday() >= 5
        c = self.cols
        users_today: list[int] = list(range(self.count)) if self.first_day else []
        # sign-ups: growing, fewer at weekends
        growth = 1.0 + 0.004 * (d - self.start)
        signups = int(rng.poisson(3.5 * self.scale * growth * (0.55 if weekend else 1.0)))
        new = self._sign_up(rng, np.sort(_daytime(rng, d, signups)))
        users_today += [int(u) for u in new]
        alive = (c["signup_us"] // US_PER_DAY <= d) & (c["churn_day"] > d)
        signed_today = c["signup_us"] // US_PER_DAY == d
        # profile updates (a new phone number) of existing users
        if not self.first_day:
            changed = np.flatnonzero(alive & ~signed_today & (rng.random(self.count) < 0.002))
            for u in changed:
                self.profile["phone"][u] = identities.ghana_mobiles(rng, 1)[0]
            users_today += [int(u) for u in changed]
        user_rows = [self._user_row(u) for u in users_today]

        subscription_rows = self._subscription_events(rng, d, alive, signed_today)
        active = alive & (
            (rng.random(self.count) < c["propensity"] * (0.4 if weekend else 1.0)) | signed_today
        )
        session_rows = self._sessions(rng, d, np.flatnonzero(active))
        api_rows = self._api_requests(rng, d, np.flatnonzero(active & (c["plan"] > 0) & (c["api_user"] == 1)))
        self.first_day = False
        return {
            USERS: user_rows,
            SUBSCRIPTIONS: subscription_rows,
            API_USAGE: api_rows,
            APP_SESSIONS: session_rows,
        }

    def _subscription_events(
        self, rng: np.random.Generator, d: int, alive: np.ndarray, signed_today: np.ndarray
    ) -> list[Row]:
        """At most one event per subscription per day: start, else cancel, else change, else renew."""
        c = self.cols
        event = np.full(self.count, -1)
        if self.first_day:  # the initial snapshot: each subscription's (re)start
            event[alive] = 0
        event[signed_today] = 0
        churns = (c["churn_day"] == d) & (c["plan"] > 0) & (event < 0)
        event[churns] = 3
        upgrade = (
            alive
            & (event < 0)
            & (c["plan"] < 2)
            & (rng.random(self.count) < np.where(c["plan"] == 0, 0.004, 0.0015))
        )
        event[upgrade] = 2
        renew = (
            alive
            & (event < 0)
            & (c["plan"] > 0)
            & (c["paid_since"] >= 0)
            & (d > c["paid_since"])
            & ((d - c["paid_since"]) % 30 == 0)
        )
        event[renew] = 1
        if upgrade.any():
            up = np.flatnonzero(upgrade)
            target = np.where(c["plan"][up] == 0, rng.choice([1, 2], len(up), p=(0.7, 0.3)), 2)
            c["plan"][up] = target
            promo = rng.random(len(up)) < 0.1
            c["price"][up] = np.where(promo, np.array(PROMO_PRICE)[target], np.array(LIST_PRICE)[target])
            c["paid_since"][up] = d
        users = np.flatnonzero(event >= 0)
        times = np.where(
            event[users] == 0,
            np.maximum(c["signup_us"][users], d * US_PER_DAY) + MS,
            _daytime(rng, d, len(users)),
        )
        if self.first_day:
            times = np.where(signed_today[users], times, c["signup_us"][users])
        order = np.lexsort((users, times))
        rows: list[Row] = []
        for u, t in zip(users[order], times[order], strict=True):
            rows.append(
                [
                    f"SUB{u + 1:07d}",
                    f"U{u + 1:07d}",
                    PLANS[int(c["plan"][u])],
                    ("start", "renew", "change", "cancel")[int(event[u])],
                    iso_utc(int(t), "ms"),
                    int(c["price"][u]),
                ]
            )
        return rows

    def _sessions(self, rng: np.random.Generator, d: int, users: np.ndarray) -> list[Row]:
        per_user = 1 + rng.poisson(0.5, len(users))
        owner = np.repeat(users, per_user)
        n = len(owner)
        started = _daytime(rng, d, n)
        duration_ms = (rng.exponential(8 * 60_000, n) + 30_000).astype(np.int64)
        ended = started + duration_ms * MS
        pages = 1 + rng.poisson(duration_ms / 75_000)
        platform = np.where(rng.random(n) < 0.8, self.cols["platform"][owner], rng.integers(0, 3, n))
        order = np.lexsort((owner, started))
        rows: list[Row] = []
        for i in order:
            self.session_serial += 1
            rows.append(
                [
                    f"SES{self.session_serial:09d}",
                    f"U{owner[i] + 1:07d}",
                    PLATFORMS[int(platform[i])],
                    iso_utc(int(started[i]), "ms"),
                    iso_utc(int(ended[i]), "ms"),
                    int(pages[i]),
                ]
            )
        return rows

    def _api_requests(self, rng: np.random.Generator, d: int, users: np.ndarray) -> list[Row]:
        rate = np.where(self.cols["plan"][users] == 2, 40.0, 12.0)
        owner = np.repeat(users, rng.poisson(rate))
        n = len(owner)
        at = _daytime(rng, d, n)
        endpoint = rng.choice(len(ENDPOINTS), n, p=ENDPOINT_WEIGHTS)
        status = np.array(STATUS_CODES)[rng.choice(len(STATUS_CODES), n, p=STATUS_WEIGHTS)]
        rows_out = np.where(status == 200, rng.lognormal(5.0, 1.5, n).astype(np.int64), 0)
        size = 300 + rows_out * rng.integers(90, 140, n)
        latency = np.round(rng.lognormal(math.log(80), 0.6, n) + rows_out / 500, 1)
        order = np.lexsort((owner, at))
        rows: list[Row] = []
        for i in order:
            self.request_serial += 1
            rows.append(
                [
                    f"REQ{self.request_serial:010d}",
                    f"U{owner[i] + 1:07d}",
                    ENDPOINTS[int(endpoint[i])],
                    iso_utc(int(at[i]), "ms"),
                    int(status[i]),
                    int(rows_out[i]),
                    int(size[i]),
                    float(latency[i]),
                ]
            )
        return rows
