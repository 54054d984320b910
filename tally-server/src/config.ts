import { commonSettings, metricsPortSetting, peerSettings, port, readConfig, signingKeySettings, str, streamSettings } from "@voting/server-kit";

export const tallySettings = {
  ...commonSettings,
  ...peerSettings,
  ...signingKeySettings,
  ...streamSettings,
  TALLY_SERVICE_KEY_FILE: { doc: "Ed25519 private key (PKCS#8 PEM) with which tally-server signs client assertions as svc-tally; `npm start` creates it", default: "data/keys/svc-tally.pem", parse: str },
  TALLY_SIGNING_KEY_FILE: { doc: "PEM file of Ed25519 keys (PKCS#8) that sign final result statements: the first signs, all are published; re-read when it changes. Unset: keys sealed with the key-encryption key", default: "", parse: str },
  TALLY_PORT: { doc: "tally-server port", default: "50053", parse: port },
  TALLY_METRICS_PORT: metricsPortSetting("tally-server"),
  VOTE_ADDR: { doc: "Address of vote-server that tally-server and the CLI dial", default: "localhost:50052", parse: str },
};

export type TallyConfig = ReturnType<typeof readTallyConfig>;

export function readTallyConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(tallySettings, env);
}
