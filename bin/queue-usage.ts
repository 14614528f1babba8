/** Usage lines of `slotwise queue …` (kept apart from bin/queue-cli.ts, which loads the whole client). */
export const QUEUE_USAGE = `  slotwise queue stats|peek|retry-dead|drain NAME --port N [--host 127.0.0.1] [--password P [--user U]]
                 [--partitions 1] [--prefix q] [--group workers] [--limit 10]
      stats: waiting, delayed, in-flight and dead jobs (total and per partition), and repeatable jobs.
      peek: the first --limit jobs of each partition (waiting, in flight, delayed) and dead letters.
      retry-dead: moves dead-lettered jobs back to the ready streams (--limit: at most that many).
      drain: deletes every job not started yet (waiting and delayed); running jobs finish.
      --partitions, --prefix and --group must be those of the queue.`;
