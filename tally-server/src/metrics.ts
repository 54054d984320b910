// tally-server's Prometheus metrics, beside the RPC metrics every server records.
import { Counter, Gauge, Histogram, serverMetrics } from "@voting/server-kit";

export function tallyMetrics(openWatches: () => number) {
  const server = serverMetrics();
  const registers = [server.registry];
  // One observation per tally transaction (which holds every due election's entries), from
  // receiving the oldest batch in it on StreamBallots to the commit: the tally's own share of
  // the lag, not the time since vote-server committed the ballots.
  const lag = new Histogram({
    name: "tally_apply_seconds",
    help: "Per tally transaction: seconds from receiving the oldest batch of ballot log entries in it to committing its counts",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const counted = new Counter({ name: "tally_ballots_counted_total", help: "Ballot log entries counted", registers });
  new Gauge({ name: "tally_watch_streams", help: "Open WatchResults calls of users and anonymous callers (service accounts not counted)", registers, collect() { this.set(openWatches()); } });
  return {
    server,
    applied(entries: number, seconds: number) {
      lag.observe(seconds);
      counted.inc(entries);
    },
  };
}
