/** Usage lines of `slotwise queue …` (kept apart from bin/queue-cli.ts, which loads the whole client). */
export const QUEUE_USAGE = `  slotwise queue stats|peek|retry-dead|drain NAME --port N [--host 127.0.0.1] [--password P [--user U]]
                 [--partitions 1] [--priorities 1] [--prefix q] [--group workers] [--limit 10]
      stats: waiting, delayed, in-flight and dead jobs (total and per partition), and repeatable jobs.
      peek: the first --limit jobs of each partition and priority level (waiting, in flight, delayed)
            and dead letters.
      retry-dead: moves dead-lettered jobs back to the ready stream of their priority level
            (--limit: at most that many).
      drain: deletes every job not started yet (waiting at any level, and delayed); running jobs finish.
      --partitions, --priorities, --prefix and --group must be those of the queue.`;
