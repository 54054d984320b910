// vote-server's Prometheus metrics, beside the RPC metrics every server records.
import { Counter, Gauge, Histogram, serverMetrics } from "@voting/server-kit";

export interface FollowStats {
  streams: number;
  followers: number;
  tails: number;
  logReads: number;
}

export function voteMetrics(stats: () => FollowStats) {
  const server = serverMetrics();
  const registers = [server.registry];
  const batchSize = new Histogram({
    name: "vote_commit_batch_size",
    help: "Ballots handled per group-commit transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers,
  });
  const appended = new Counter({ name: "vote_ballots_appended_total", help: "Ballot log entries committed", registers });
  // Read on scrape from the live counts, so nothing is recorded on the hot path.
  const gauge = (name: string, help: string, read: (s: FollowStats) => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read(stats())); } });
  gauge("vote_follow_streams", "Open StreamBallots calls of users and anonymous callers (service accounts, e.g. tally-server, not counted)", (s) => s.streams);
  gauge("vote_follow_followers", "Readers of the ballot log feed (following StreamBallots calls)", (s) => s.followers);
  gauge("vote_follow_tails", "Log tails, each with a poll timer", (s) => s.tails);
  let reported = 0;
  new Counter({
    name: "vote_log_reads_total",
    help: "Reads of the ballot log (StreamBallots pages and follower catch-up)",
    registers,
    collect() {
      const now = stats().logReads;
      this.inc(now - reported);
      reported = now;
    },
  });
  return {
    server,
    committed(batch: number, entries: number) {
      batchSize.observe(batch);
      appended.inc(entries);
    },
  };
}
