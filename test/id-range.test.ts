// Every integer field of every RPC, at the edges of int64 and uint64, on every server: a
// clear refusal (INVALID_ARGUMENT, NOT_FOUND, ...), never INTERNAL. The RPCs come from the
// generated service definitions and the fields from the descriptor set, so a new RPC or
// field is covered without touching this file.
import * as grpc from "@grpc/grpc-js";
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { authV1, readDescriptorSet, tallyV1, voteV1 } from "@voting/api";
import { expect, it } from "vitest";
import { describeOnStores, type System } from "./harness.js";

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readDescriptorSet()));

const services: { server: keyof System["addrs"]; definition: grpc.ServiceDefinition }[] = [
  { server: "auth", definition: authV1.AuthServiceService },
  { server: "vote", definition: voteV1.ElectionServiceService },
  { server: "vote", definition: voteV1.VoteServiceService },
  { server: "tally", definition: tallyV1.TallyServiceService },
];

const BIG = ["9223372036854775807", "18446744073709551615", "9007199254740992", "9007199254740991"];

const INTEGER = new Set([
  ScalarType.INT32, ScalarType.INT64, ScalarType.UINT32, ScalarType.UINT64, ScalarType.SINT32, ScalarType.SINT64,
  ScalarType.FIXED32, ScalarType.FIXED64, ScalarType.SFIXED32, ScalarType.SFIXED64,
]);

function isInteger(f: DescField): boolean {
  if (f.fieldKind === "enum") return true;
  return (f.fieldKind === "scalar" || f.fieldKind === "list") && f.scalar !== undefined && INTEGER.has(f.scalar);
}

/** Writes `value` into the field at `path` (message fields, then an integer field) as a varint. */
function encode(path: DescField[], value: string): Buffer {
  const w = new BinaryWriter();
  const [field, ...rest] = path;
  if (rest.length === 0) w.tag(field.number, WireType.Varint).uint64(value);
  else w.tag(field.number, WireType.LengthDelimited).bytes(encode(rest, value));
  return Buffer.from(w.finish());
}

/** Every path to an integer field, through message fields up to two levels deep. */
function integerPaths(m: DescMessage, depth = 0): DescField[][] {
  const out: DescField[][] = [];
  for (const f of m.fields) {
    if (isInteger(f)) out.push([f]);
    else if (f.message && depth < 2 && f.message.typeName.startsWith("voting.")) {
      for (const p of integerPaths(f.message, depth + 1)) out.push([f, ...p]);
    }
  }
  return out;
}

const pass = (b: Buffer) => b;

function call(addr: string, path: string, stream: boolean, body: Buffer, token: string): Promise<grpc.StatusObject> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  const deadline = Date.now() + 5_000;
  return new Promise<grpc.StatusObject>((resolve) => {
    if (stream) {
      const s = client.makeServerStreamRequest(path, pass, pass, body, md, { deadline });
      s.on("data", () => s.cancel());
      s.on("error", () => undefined);
      s.on("status", (st: grpc.StatusObject) => resolve(st));
    } else {
      const c = client.makeUnaryRequest(path, pass, pass, body, md, { deadline }, () => undefined);
      c.on("status", (st: grpc.StatusObject) => resolve(st));
    }
  }).finally(() => client.close());
}

describeOnStores("integer fields out of range", (system) => {
  it("when any integer field of any RPC holds int64 max, uint64 max or 2^53, then no server answers INTERNAL", async () => {
    const tokens = { admin: await system().adminToken(), voter: (await system().user("voter")).token };
    let calls = 0;
    const internal: string[] = [];
    for (const { server, definition } of services) {
      for (const method of Object.values(definition)) {
        const [service, name] = method.path.slice(1).split("/");
        const input = registry.getService(service)!.methods.find((m) => m.name === name)!.input;
        for (const path of integerPaths(input)) {
          for (const value of BIG) {
            for (const [who, token] of Object.entries(tokens)) {
              const st = await call(system().addrs[server], method.path, method.responseStream, encode(path, value), token);
              calls++;
              if (st.code === grpc.status.INTERNAL || st.code === grpc.status.UNKNOWN) {
                internal.push(`${method.path} ${path.map((f) => f.name).join(".")}=${value} as ${who}: ${grpc.status[st.code]} ${st.details}`);
              }
            }
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(100);
    expect(internal).toEqual([]);
  });

  it("when an id is beyond 2^53, then INVALID_ARGUMENT names the problem", async () => {
    const body = encode([registry.getMessage("voting.vote.v1.GetElectionRequest")!.fields[0]], "18446744073709551615");
    const st = await call(system().addrs.vote, voteV1.ElectionServiceService.getElection.path, false, body, await system().adminToken());
    expect(st.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(st.details).toMatch(/request could not be decoded: .*MAX_SAFE_INTEGER/);
  });
});
