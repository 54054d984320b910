// Server reflection and health, seen the way strict tools (grpcurl, grpc_cli, Postman) see
// them: list the services, fetch each service's file and, by file name, every file it
// imports, then link them all into one registry that must leave no reference unresolved.
import * as grpc from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { create, createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSystem, type System } from "./harness.js";

const require = createRequire(import.meta.url);
const reflectionProtoDir = join(dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");
const healthProtoPath = join(dirname(require.resolve("grpc-health-check/package.json")), "proto", "health", "v1", "health.proto");

const loaderOptions: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const CALL_MS = 5_000;
const deadline = () => Date.now() + CALL_MS;

type Version = "v1" | "v1alpha";
type Server = "auth" | "vote" | "tally";

const HEALTH = "grpc.health.v1.Health";
const votingServices: Record<Server, string[]> = {
  auth: ["voting.auth.v1.AuthService"],
  vote: ["voting.log.v1.LogService", "voting.vote.v1.ElectionService", "voting.vote.v1.VoteService"],
  tally: ["voting.tally.v1.TallyService"],
};
const servers = Object.keys(votingServices) as Server[];

function reflectionClientCtor(version: Version): grpc.ServiceClientConstructor {
  const def = loadSync(`grpc/reflection/${version}/reflection.proto`, { ...loaderOptions, includeDirs: [reflectionProtoDir] });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return pkg.grpc.reflection[version].ServerReflection;
}

const healthCtor = (grpc.loadPackageDefinition(loadSync(healthProtoPath, loaderOptions)) as any).grpc.health.v1.Health as grpc.ServiceClientConstructor;

interface ReflectionResponse {
  message_response: "file_descriptor_response" | "list_services_response" | "error_response" | string;
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

/** One ServerReflectionInfo stream; requests are answered in order, one response each. */
class ReflectionSession {
  private readonly call: grpc.ClientDuplexStream<object, ReflectionResponse>;
  private readonly waiting: { resolve(r: ReflectionResponse): void; reject(e: Error): void }[] = [];
  private failure: Error | undefined;

  constructor(client: grpc.Client) {
    this.call = (client as any).ServerReflectionInfo({ deadline: deadline() });
    this.call.on("data", (r: ReflectionResponse) => this.waiting.shift()?.resolve(r));
    this.call.on("error", (e: Error) => this.fail(e));
    this.call.on("end", () => this.fail(new Error("reflection stream ended early")));
  }

  private fail(e: Error) {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  request(req: object): Promise<ReflectionResponse> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.call.write({ host: "", ...req });
    });
  }

  close() {
    this.call.end();
  }

  async listServices(): Promise<string[]> {
    const r = await this.request({ list_services: "*" });
    expect(r.message_response, JSON.stringify(r.error_response)).toBe("list_services_response");
    return r.list_services_response!.service.map((s) => s.name);
  }

  async files(req: object): Promise<FileDescriptorProto[]> {
    const r = await this.request(req);
    expect(r.message_response, `${JSON.stringify(req)}: ${JSON.stringify(r.error_response)}`).toBe("file_descriptor_response");
    return r.file_descriptor_response!.file_descriptor_proto.map((b) => fromBinary(FileDescriptorProtoSchema, new Uint8Array(b)));
  }
}

/**
 * What grpcurl does: file_containing_symbol for each service, then file_by_filename for
 * every import not yet seen, recursively. Returns the files by name.
 */
async function fetchClosure(session: ReflectionSession, symbols: string[]): Promise<Map<string, FileDescriptorProto>> {
  const files = new Map<string, FileDescriptorProto>();
  const requested = new Set<string>();
  const pending: string[] = [];
  const take = (fs: FileDescriptorProto[]) => {
    for (const f of fs) {
      if (!files.has(f.name)) files.set(f.name, f);
      for (const dep of f.dependency) if (!files.has(dep) && !requested.has(dep)) pending.push(dep);
    }
  };
  for (const symbol of symbols) take(await session.files({ file_containing_symbol: symbol }));
  while (pending.length) {
    const name = pending.shift()!;
    if (files.has(name) || requested.has(name)) continue;
    requested.add(name);
    const got = await session.files({ file_by_filename: name });
    expect(got.map((f) => f.name)).toContain(name);
    take(got);
  }
  return files;
}

/** protoc's map entry name for a map field: "statuses" -> "StatusesEntry" (as Go's protodesc checks). */
const mapEntryName = (field: string) => field.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + "Entry";

/**
 * Descriptors as protoc writes them, which Go's protodesc (grpcurl) insists on: every type
 * reference fully qualified with a leading dot, every map entry named after its field.
 */
function assertProtocShape(file: FileDescriptorProto) {
  const refs: string[] = [];
  const walk = (scope: string, msgs: FileDescriptorProto["messageType"]) => {
    for (const m of msgs) {
      for (const f of m.field) {
        if (f.typeName && !f.typeName.startsWith(".")) refs.push(`${scope}.${m.name}.${f.name} -> ${f.typeName}`);
        const entry = m.nestedType.find((n) => n.options?.mapEntry && f.typeName.split(".").pop() === n.name);
        if (entry && entry.name !== mapEntryName(f.name)) refs.push(`${scope}.${m.name}.${f.name}: map entry ${entry.name}, protoc names it ${mapEntryName(f.name)}`);
      }
      walk(`${scope}.${m.name}`, m.nestedType);
    }
  };
  walk(file.package, file.messageType);
  for (const s of file.service)
    for (const m of s.method) for (const t of [m.inputType, m.outputType]) if (!t.startsWith(".")) refs.push(`${s.name}.${m.name} -> ${t}`);
  expect(refs, `${file.name}: references a strict client cannot take`).toEqual([]);
}

/** Links the files in import order; throws on any import or type name that does not resolve. */
function link(files: Map<string, FileDescriptorProto>): FileRegistry {
  for (const f of files.values()) assertProtocShape(f);
  const ordered: FileDescriptorProto[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, importer: string) => {
    const f = files.get(name);
    if (!f) throw new Error(`${importer} imports ${name}, which reflection did not return`);
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`import cycle through ${name}`);
    state.set(name, "visiting");
    for (const dep of f.dependency) visit(dep, name);
    state.set(name, "done");
    ordered.push(f);
  };
  for (const name of files.keys()) visit(name, "(root)");
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

describe("server reflection and health [sqlite]", () => {
  let system: System;
  const clients: grpc.Client[] = [];
  const sessions: ReflectionSession[] = [];

  const session = (server: Server, version: Version = "v1") => {
    const Ctor = reflectionClientCtor(version);
    const client = new Ctor(system.addrs[server], grpc.credentials.createInsecure());
    clients.push(client);
    const s = new ReflectionSession(client);
    sessions.push(s);
    return s;
  };
  const health = (server: Server) => {
    const client = new healthCtor(system.addrs[server], grpc.credentials.createInsecure());
    clients.push(client);
    return (service: string) =>
      new Promise<{ status?: string; code?: number }>((resolve, reject) =>
        (client as any).Check({ service }, { deadline: deadline() }, (err: grpc.ServiceError | null, res: { status: string }) => {
          if (err && err.code !== undefined && err.code !== grpc.status.DEADLINE_EXCEEDED && err.code !== grpc.status.UNAVAILABLE) resolve({ code: err.code });
          else if (err) reject(err);
          else resolve({ status: res.status });
        }),
      );
  };

  beforeAll(async () => {
    system = await startSystem("sqlite");
  });
  afterAll(async () => {
    for (const s of sessions) s.close();
    for (const c of clients) c.close();
    await system?.stop();
  });

  describe.each(servers)("the %s server", (server) => {
    it("when a client lists services over v1 reflection, then it gets exactly the voting services and health", async () => {
      const names = await session(server).listServices();
      expect([...names].sort()).toEqual([...votingServices[server], HEALTH].sort());
    });

    it.each(["v1", "v1alpha"] as const)(
      "when grpcurl-style clients resolve every listed service and its imports over %s reflection, then all references link",
      async (version) => {
        const s = session(server, version);
        const listed = (await s.listServices()).filter((n) => n.startsWith("voting."));
        expect([...listed].sort()).toEqual([...votingServices[server]].sort());

        const files = await fetchClosure(s, listed);
        const registry = link(files);

        for (const name of listed) {
          const svc = registry.getService(name);
          expect(svc, name).toBeDefined();
          expect(svc!.methods.length).toBeGreaterThan(0);
          for (const m of svc!.methods) {
            expect(m.input.typeName).toMatch(/^voting\./);
            expect(m.output.typeName).toMatch(/^voting\./);
          }
        }
        // Every file a service file imports came back under its own name, with its own imports.
        for (const f of files.values()) for (const dep of f.dependency) expect(files.has(dep), `${f.name} -> ${dep}`).toBe(true);
        if (server !== "vote") expect(registry.getFile("google/protobuf/timestamp.proto")?.messages.map((m) => m.typeName)).toContain("google.protobuf.Timestamp");
      },
    );

    it("when a client asks for a symbol or file the server does not have, then reflection answers NOT_FOUND", async () => {
      const s = session(server);
      const bySymbol = await s.request({ file_containing_symbol: "voting.nothing.v1.Nope" });
      expect(bySymbol.message_response).toBe("error_response");
      expect(bySymbol.error_response!.error_code).toBe(grpc.status.NOT_FOUND);
      const byFile = await s.request({ file_by_filename: "voting/nothing/v1/nope.proto" });
      expect(byFile.message_response).toBe("error_response");
      expect(byFile.error_response!.error_code).toBe(grpc.status.NOT_FOUND);
    });

    it("when a health client checks the server and each of its services, then all are SERVING and an unknown service is NOT_FOUND", async () => {
      const check = health(server);
      expect(await check("")).toEqual({ status: "SERVING" });
      for (const name of votingServices[server]) expect(await check(name), name).toEqual({ status: "SERVING" });
      expect(await check("voting.nothing.v1.NopeService")).toEqual({ code: grpc.status.NOT_FOUND });
    });
  });

  it("when grpcurl-style clients resolve LoginResponse over reflection, then its tokens field is a TokenPair whose expiry times are google.protobuf.Timestamp", async () => {
    const registry = link(await fetchClosure(session("auth"), ["voting.auth.v1.AuthService"]));
    const login = registry.getMessage("voting.auth.v1.LoginResponse");
    expect(login).toBeDefined();
    const tokens = login!.fields.find((f) => f.name === "tokens");
    expect(tokens?.fieldKind).toBe("message");
    const pair = tokens!.message!;
    expect(pair.typeName).toBe("voting.auth.v1.TokenPair");
    for (const name of ["access_token_expire_time", "refresh_token_expire_time"]) {
      const f = pair.fields.find((x) => x.name === name);
      expect(f?.message?.typeName, name).toBe("google.protobuf.Timestamp");
      expect(f!.message!.file.proto.name).toBe("google/protobuf/timestamp.proto");
    }
    expect(registry.getMessage("voting.auth.v1.User")?.field.createTime?.message?.typeName).toBe("google.protobuf.Timestamp");
    const method = registry.getService("voting.auth.v1.AuthService")!.method.login;
    expect(method.output.typeName).toBe("voting.auth.v1.LoginResponse");
  });

  it("when grpcurl-style clients resolve the health service over reflection, then it links too", async () => {
    const s = session("tally");
    const registry = link(await fetchClosure(s, [HEALTH]));
    const svc = registry.getService(HEALTH);
    expect(svc?.methods.map((m) => m.name).sort()).toEqual(["Check", "List", "Watch"]);
    expect(svc!.method.check.input.typeName).toBe("grpc.health.v1.HealthCheckRequest");
    expect(svc!.method.check.output.field.status?.enum?.typeName).toBe("grpc.health.v1.HealthCheckResponse.ServingStatus");
    const statuses = registry.getMessage("grpc.health.v1.HealthListResponse")?.field.statuses;
    expect(statuses?.fieldKind).toBe("map");
    expect(statuses?.fieldKind === "map" && statuses.message?.typeName).toBe("grpc.health.v1.HealthCheckResponse");
  });
});
