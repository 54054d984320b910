import type { AccessTable } from "@voting/server-kit";

/** Who may call each tally-server RPC: results are public. */
export const tallyAccess: AccessTable = {
  "/voting.tally.v1.TallyService/GetResults": "public",
  "/voting.tally.v1.TallyService/WatchResults": "public",
  "/voting.tally.v1.TallyService/GetJwks": "public",
};
