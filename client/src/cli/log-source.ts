// The transparency log of one election through vote-server's LogService, counting what it
// downloads (protobuf bytes of each answer) so `voting verify` can report it.
import { logV1, voteV1, type VotingClient } from "@voting/api";
import type { LogSource } from "./tlog-check.js";

export interface CountingLogSource extends LogSource {
  /** Protobuf bytes of every answer so far (what came over the wire, without framing). */
  readonly bytes: number;
  readonly calls: number;
  /** Adds the size of another answer the caller fetched itself (e.g. GetReceipt). */
  count(bytes: number): void;
  /** The last GetCheckpoint answer. */
  readonly lastCheckpoint?: logV1.GetCheckpointResponse;
  inclusion(index: number, size: number): Promise<logV1.GetInclusionProofResponse>;
}

export function grpcLogSource(client: VotingClient, electionId: number): CountingLogSource {
  let bytes = 0;
  let calls = 0;
  let lastCheckpoint: logV1.GetCheckpointResponse | undefined;
  const counted = <T>(res: T, fns: { encode(m: T): { finish(): Uint8Array } }) => {
    bytes += fns.encode(res).finish().length;
    calls++;
    return res;
  };
  const inclusion = async (index: number, size: number) =>
    counted(await client.log.getInclusionProof({ electionId, treeSize: size, leafIndex: index }), logV1.GetInclusionProofResponse);
  return {
    get bytes() {
      return bytes;
    },
    get calls() {
      return calls;
    },
    get lastCheckpoint() {
      return lastCheckpoint;
    },
    count(n: number) {
      bytes += n;
      calls++;
    },
    async checkpoint() {
      lastCheckpoint = counted(await client.log.getCheckpoint({ electionId }), logV1.GetCheckpointResponse);
      return { note: lastCheckpoint.checkpoint?.note ?? "", logKey: lastCheckpoint.verifierKey || undefined };
    },
    inclusion,
    async inclusionProof(index, size) {
      return (await inclusion(index, size)).inclusionPath.map((h) => Buffer.from(h));
    },
    async consistencyProof(size1, size2) {
      // second_size 0 means "latest" on the wire: never send it for an explicit empty tree.
      if (size2 === 0) return [];
      const res = counted(await client.log.getConsistencyProof({ electionId, firstSize: size1, secondSize: size2 }), logV1.GetConsistencyProofResponse);
      if (res.firstSize !== size1 || res.secondSize !== size2) throw new Error(`asked for a consistency proof from ${size1} to ${size2}, got one from ${res.firstSize} to ${res.secondSize}`);
      return res.consistencyPath.map((h) => Buffer.from(h));
    },
  };
}

/** Size on the wire of a GetReceipt answer. */
export const receiptBytes = (res: voteV1.GetReceiptResponse) => voteV1.GetReceiptResponse.encode(res).finish().length;
