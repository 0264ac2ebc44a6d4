"""Fault: PostgreSQL stopped (`gcx db stop`) for a while and started again under a running API
(`gcx serve`), feed consumer (`gcx feed`) and live feed (`gcx simulate --live`), with SSE subscribers
connected. During the outage every API request answers 503 in the one error shape with Retry-After,
never 500, within a bound; afterwards the API recovers by itself, a subscriber that stayed connected
and one that resumed with Last-Event-ID miss nothing and repeat nothing, and every feed message is
stored once."""

import threading
import time

import httpx
import ledger
from processes import (
    Platform,
    SseSubscriber,
    consumer_caught_up,
    create_key,
    cursor_seq,
    feed_count,
    wait_until,
)

OUTAGE_S = 15
ANSWER_WITHIN_S = 10.0
"""An answer during the outage must come within this (the pool waits 5 s for a connection)."""
RECOVER_WITHIN_S = 60.0
"""psycopg_pool retries a lost server with exponential backoff: measured ~20 s after a 15 s outage."""
PROBED = ("/health", "/v1/trades/tail?limit=10", "/v1/me")


class Prober(threading.Thread):
    """Requests the API without pause, noting for each: phase, path, status, seconds, body, Retry-After."""

    def __init__(self, url: str, key: str, phase: list[str], offset: int):
        super().__init__(daemon=True)
        self.url, self.key, self.phase, self.offset = url, key, phase, offset
        self.results: list[tuple[str, str, int | None, float, dict | None, str | None]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = self.offset
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}) as client:
            while not self.stopping.is_set():
                path = PROBED[n % len(PROBED)]
                n += 1
                phase = self.phase[0]
                started = time.monotonic()
                try:
                    response = client.get(path, timeout=30)
                    status, body = response.status_code, _json(response)
                    retry_after = response.headers.get("retry-after")
                except httpx.HTTPError:
                    status, body, retry_after = None, None, None  # no answer within 30 s: a hang
                self.results.append((phase, path, status, time.monotonic() - started, body, retry_after))
                self.stopping.wait(0.2)


def _json(response: httpx.Response) -> dict | None:
    try:
        return response.json()
    except ValueError:
        return None


def _well_formed_503(result) -> bool:
    _, _, status, seconds, body, retry_after = result
    error = (body or {}).get("error", {})
    return (
        status == 503
        and error.get("status") == 503
        and error.get("reason") == "database_unavailable"
        and bool(error.get("message"))
        and retry_after is not None
        and retry_after.isdigit()
        and seconds < ANSWER_WITHIN_S
    )


def test_api_and_feed_ride_out_a_postgresql_restart(tmp_path):
    with Platform.create(tmp_path / "home") as platform:
        assert platform.gcx_run("simulate", "--days", "1", "--seed", "8") == 0
        key = create_key(platform)
        consumer = platform.start("feed")
        url = platform.serve()
        live = platform.start("simulate", "--live", "--trades-per-second", "10", name="live-1")
        wait_until(
            lambda: platform.scalar("warehouse", "select count(*) from hot.trades") >= 10, 120, "trades"
        )
        start_cursor = httpx.get(
            f"{url}/v1/trades/tail", params={"limit": 1}, headers={"Authorization": f"Bearer {key}"}
        ).json()["next_cursor"]
        staying = SseSubscriber(url, key, start_cursor)
        leaving = SseSubscriber(url, key, start_cursor)
        staying.start(), leaving.start()
        phase = ["before"]
        probers = [Prober(url, key, phase, offset) for offset in range(3)]
        for prober in probers:
            prober.start()
        wait_until(lambda: len(staying.trade_ids) >= 5 and len(leaving.trade_ids) >= 5, 60, "SSE trades")

        platform.db_stop()
        phase[0] = "outage"
        leaving.stop()  # this client goes away during the outage and resumes with Last-Event-ID
        resumed = SseSubscriber(url, key, leaving.last_id)
        resumed.start()
        time.sleep(OUTAGE_S)
        live_exit = live.poll()  # None: live mode is still running (it may retry), else its exit code
        phase[0] = "restarting"
        platform.db_start()
        restarted_at = time.monotonic()
        phase[0] = "after"

        def api_answers() -> bool:
            recent = [r for p in probers for r in p.results[-3:] if r[0] == "after"]
            return len(recent) >= 6 and all(r[2] == 200 for r in recent)

        wait_until(api_answers, RECOVER_WITHIN_S, "the API to answer 200 again by itself", 0.5)
        recovered_s = time.monotonic() - restarted_at
        platform.stop(live)  # one publisher at a time
        live = platform.start(
            "simulate", "--live", "--trades-per-second", "10", "--duration", "10", name="live-2"
        )
        assert live.wait(timeout=120) == 0, platform.log_tail("live-2")
        wait_until(lambda: consumer_caught_up(platform), 120, "the consumer to catch up", 0.5)
        assert consumer.poll() is None, f"gcx feed stopped:\n{platform.log_tail('feed')}"

        with platform.connect("warehouse") as conn:
            expected = [
                trade_id
                for (trade_id,) in conn.execute(
                    "select trade_id from hot.trades where seq > %s order by seq", (cursor_seq(start_cursor),)
                )
            ]
        wait_until(
            lambda: (
                len(staying.trade_ids) >= len(expected)
                and len(leaving.trade_ids) + len(resumed.trade_ids) >= len(expected)
            ),
            60,
            "the subscribers to receive every trade",
            0.5,
        )
        for prober in probers:
            prober.stopping.set()
        for prober in probers:
            prober.join(timeout=60)
        staying.stop(), resumed.stop()

        results = [r for p in probers for r in p.results]
        outage = [r for r in results if r[0] == "outage"]
        server_errors = [r for r in results if r[2] is None or (r[2] >= 500 and r[2] != 503)]
        bad_503 = [r for r in outage if not _well_formed_503(r)]
        count = feed_count(platform)
        missed = {
            "staying": staying.trade_ids != expected,
            "resumed": leaving.trade_ids + resumed.trade_ids != expected,
        }
        ok = not server_errors and not bad_503 and count.exact and not any(missed.values())
        ledger.requests(
            "API during a PostgreSQL stop/start",
            sent=len(results),
            failed=len(server_errors) + len(bad_503),
            detail=(
                f"{len(outage)} during the {OUTAGE_S} s outage, all 503 database_unavailable with "
                f"Retry-After in < {max((r[3] for r in outage), default=0):.1f} s; 200 again "
                f"{recovered_s:.1f} s after the restart"
            ),
        )
        ledger.fault(
            "PostgreSQL stop/start under gcx serve, gcx feed, live feed and SSE subscribers",
            survived=ok,
            rows_lost=count.lost + sum(len(set(expected) - set(ids)) for ids in
                                       (staying.trade_ids, leaving.trade_ids + resumed.trade_ids)),
            rows_duplicated=count.duplicated,
            detail=(
                f"{count.messages} feed messages all stored once; SSE: {len(expected)} trades to each "
                f"subscriber, staying one {len(staying.trade_ids)} (missed: {missed['staying']}), resumed "
                f"with Last-Event-ID {len(leaving.trade_ids) + len(resumed.trade_ids)} (missed: "
                f"{missed['resumed']}); live feed exit code during the outage {live_exit}"
            ),
        )  # fmt: skip
        assert not server_errors, server_errors[:5]
        assert outage and not bad_503, bad_503[:5]
        assert count.exact, count
        assert not any(missed.values()), missed
