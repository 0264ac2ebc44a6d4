"""The live feed consumer: feed messages -> the same trade rules as ingestion -> hot tables, exactly once.

    exchange.feed_messages (+ NOTIFY gcx_feed)      the feed (FeedSource: PostgreSQL today, Kafka later)
        | read after the checkpoint, in batches
        | decode the JSON, validate each message with the ingestion's trade rules (datasets.py
        |   `exchange__trades`, applied value by value by validate.py's `validate_record`)
        v
    warehouse, ONE transaction per batch:
        hot.trades          valid trades; `seq` = the feed message's seq = the API's cursor
        raw.quarantine      bad messages with every reason (source 'feed', record key = seq)
        hot.consumer_offsets   the checkpoint (and running counts), advanced with the rows
        NOTIFY gcx_hot_trades '<max seq>'   delivered at commit, wakes the API's stream fan-out

Because the checkpoint moves in the same transaction as the rows it covers, a crash mid-batch
rolls both back and the batch is read again: nothing lost, nothing twice. `hot.trades.trade_id` is
unique as a second guard. Every message ends up either in hot.trades or in raw.quarantine, and the
checkpoint counts both (`messages = trades + quarantined`).

One consumer writes (a PostgreSQL advisory lock enforces it), so hot rows commit in seq order and a
reader that has seen seq N has seen everything before it. The feed is read the same way: the
exchange is its one publisher, committing messages in seq order.

Waiting: LISTEN on gcx_feed wakes the consumer at once; it also polls every `idle_poll_s` so a
missed NOTIFY delays a message by at most that, never stalls it.

Retention: hot.trades keeps the last `HOT_RETENTION` (7 days) of stored trades, pruned oldest
first by seq; the warehouse (raw -> marts) holds the full history. The highest pruned seq is kept
in the checkpoint row so the API can tell a client whose cursor is older than the hot table.

Session hours: the ingestion's rule that a GCX trade falls inside its day's session applies here
too; live mode (`gcx simulate --live`) declares the days it trades on as demo sessions in the
exchange's trading calendar, so its trades pass both here and in the end-of-day ingestion.

A replaced feed (a batch `gcx simulate` truncates the exchange, so seqs start again at 1) is
detected by the checkpoint message's publication time: the consumer then forgets the old feed
(hot rows, feed quarantine, checkpoint) and starts from the first message, with a warning.
"""
