// The generated gRPC contract (ts-proto) and the descriptor set for reflection, with the
// proto<->domain mappings and the typed client that servers and the CLI share.
// Regenerate src/gen with `npm run generate`; never edit it by hand.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export * as authV1 from "./gen/voting/auth/v1/auth.js";
export * as voteV1 from "./gen/voting/vote/v1/vote.js";
export * as tallyV1 from "./gen/voting/tally/v1/tally.js";
export * as logV1 from "./gen/voting/log/v1/log.js";
export * as healthV1 from "./gen/grpc/health/v1/health.js";
export * from "./mapping/enums.js";
export * from "./mapping/results.js";
export * from "./mapping/error-details.js";
export * from "./client.js";
export { lazyStreamBallotsResponse, scanStreamBallots, streamBallotsBytes } from "./ballot-stream-decode.js";
export { STREAM_BALLOTS_TAGS } from "./ballot-stream-tags.js";

/** Path of the FileDescriptorSet that `buf build` writes (with imports). */
export const descriptorSetPath = fileURLToPath(new URL("../descriptors.binpb", import.meta.url));

export function readDescriptorSet(): Buffer {
  return readFileSync(descriptorSetPath);
}
export * from "./slots.js";
