import { commonSettings, port, readConfig, serviceAccountSettings, str, streamSettings } from "@voting/server-kit";

export const tallySettings = {
  ...commonSettings,
  ...serviceAccountSettings,
  ...streamSettings,
  TALLY_PORT: { doc: "tally-server port", default: "50053", parse: port },
  VOTE_ADDR: { doc: "Address of vote-server that tally-server and the CLI dial", default: "localhost:50052", parse: str },
};

export type TallyConfig = ReturnType<typeof readTallyConfig>;

export function readTallyConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(tallySettings, env);
}
