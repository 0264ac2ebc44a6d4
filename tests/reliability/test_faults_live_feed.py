"""Fault: the live feed consumer (`gcx feed`) SIGKILLed mid-stream, twice, while `gcx simulate --live`
keeps publishing (with malformed messages), and restarted each time. Afterwards hot.trades holds
exactly the valid feed messages and raw.quarantine exactly the malformed ones (the simulator's
ground truth), each once."""

import signal

import ledger
from processes import Platform, consumer_caught_up, feed_count, wait_until

LIVE_SECONDS = 30


def _hot_trades(platform: Platform) -> int:
    try:
        return platform.scalar("warehouse", "select count(*) from hot.trades")
    except Exception:  # the table does not exist before the consumer's first start
        return 0


def test_killed_feed_consumer_resumes_with_no_loss_or_duplicate(tmp_path):
    with Platform.create(tmp_path / "home") as platform:
        assert platform.gcx_run("simulate", "--days", "1", "--seed", "5") == 0
        consumer = platform.start("feed", name="feed-1")
        live = platform.start(
            "simulate", "--live", "--trades-per-second", "20", "--duration", str(LIVE_SECONDS),
            "--bad-rate", "0.05", "--seed", "17", name="live",
        )  # fmt: skip
        kills = []
        for attempt, threshold in enumerate((40, 200), start=1):
            wait_until(lambda t=threshold: _hot_trades(platform) >= t, 180, f"{threshold} hot trades")
            platform.kill(consumer, signal.SIGKILL)
            kills.append(_hot_trades(platform))
            consumer = platform.start("feed", name=f"feed-{attempt + 1}")
        assert live.wait(timeout=LIVE_SECONDS + 120) == 0, platform.log_tail("live")
        wait_until(lambda: consumer_caught_up(platform), 120, "the consumer to reach the feed's head", 0.5)
        assert consumer.poll() is None, "the restarted consumer keeps running"
        count = feed_count(platform)
        ledger.fault(
            "SIGKILL gcx feed mid-stream (x2) during live trading, restart",
            survived=count.exact,
            rows_lost=count.lost,
            rows_duplicated=count.duplicated,
            detail=(
                f"{count.messages} feed messages ({count.expected_bad} malformed): hot.trades {count.hot}, "
                f"quarantine {count.quarantined}, misplaced {count.misplaced}; killed at {kills} hot trades"
            ),
        )
        assert count.exact, count
        assert count.hot == count.messages - count.expected_bad and count.expected_bad > 0
