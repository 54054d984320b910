import { commonSettings, metricsPortSetting, int, peerSettings, port, readConfig, signingKeySettings, str, streamSettings } from "@voting/server-kit";

export const voteSettings = {
  ...commonSettings,
  ...peerSettings,
  ...streamSettings,
  VOTE_SERVICE_KEY_FILE: { doc: "Ed25519 private key (PKCS#8 PEM) with which vote-server signs client assertions as svc-vote; `npm start` creates it", default: "data/keys/svc-vote.pem", parse: str },
  VOTE_PORT: { doc: "vote-server port", default: "50052", parse: port },
  VOTE_METRICS_PORT: metricsPortSetting("vote-server"),
  VOTE_BATCH_MAX: { doc: "Most ballots committed in one transaction (group commit)", default: "500", parse: int(1, 5000) },
  VOTE_RECONCILE_EVERY_MS: { doc: "How often vote-server checks that every election's log length equals its turnout", default: "5000", parse: int(100, 3_600_000) },
  VOTE_RECONCILE_BUSY_PERCENT: {
    doc: "Most share of the time, in percent, the reconciliation's whole-log counts may take: a check that took d waits at least d × (100 − p) / p before the next",
    default: "5",
    parse: int(1, 100),
  },
  VOTE_STREAM_PAGE_ENTRIES: { doc: "Most ballot log entries per StreamBallots message and per log read", default: "1000", parse: int(1, 10_000) },
  VOTE_STREAM_MAX_QUEUED_ENTRIES: {
    doc: "Entries a StreamBallots follower may have waiting to be sent; beyond it the follower is dropped with RESOURCE_EXHAUSTED",
    default: "10000",
    parse: int(1, 1_000_000),
  },
  VOTE_LOG_NAME: {
    doc: "Name of this vote-server's transparency log: checkpoint origins are `<name>/election/<id>` (a host name; no spaces or `+`). Changing it starts new logs",
    default: "voting.example",
    parse: (raw: string) => {
      if (!/^[!-*,-~]+$/.test(raw)) throw new Error("a log name is printable ASCII without spaces or +");
      return raw;
    },
  },
  VOTE_LOG_KEY_FILE: {
    doc: "Ed25519 private key (PKCS#8 PEM) that signs the transparency log's checkpoints; empty: a key made once and kept sealed in the store under KEY_ENCRYPTION_KEY",
    default: "",
    parse: str,
  },
  KEY_ENCRYPTION_KEY: signingKeySettings.KEY_ENCRYPTION_KEY,
  KEY_ENCRYPTION_KEY_FILE: signingKeySettings.KEY_ENCRYPTION_KEY_FILE,
  SIGNING_KEY_RELOAD_MS: signingKeySettings.SIGNING_KEY_RELOAD_MS,
  VOTE_LOG_CALLS_PER_SECOND: {
    doc: "LogService calls (checkpoints, proofs) per second one caller may make on average (user id, or client address when anonymous, IPv6 by /64); beyond it RESOURCE_EXHAUSTED; service accounts are exempt",
    default: "20",
    parse: int(1, 1_000_000),
  },
  VOTE_LOG_CALL_BURST: { doc: "LogService calls one caller may make at once before VOTE_LOG_CALLS_PER_SECOND applies", default: "200", parse: int(1, 1_000_000) },
  VOTE_LINGER_MS: { doc: "How long a ballot waits for others to share its commit when none is running", default: "2", parse: int(0, 100) },
};

export type VoteConfig = ReturnType<typeof readVoteConfig>;

export function readVoteConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(voteSettings, env);
}
