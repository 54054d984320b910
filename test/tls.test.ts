// TLS on every listener and mTLS between the servers: the whole system over TLS, and the
// ways a caller could try to get around it.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, makeGenericClientConstructor, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { createVotingClient, Status, type TlsOptions } from "@voting/client";
import { authV1 } from "@voting/api";
import { certificateNames, createLogger, loadServicePrivateKey, loadTls, signServiceAssertion, ConfigError, startGrpcServer, UnauthenticatedError, verifiedClientCertificate, type TlsMaterial } from "@voting/server-kit";
import { readAuthConfig, startAuthServer } from "@voting/auth-server";
import { describeOnStores, uniqueName, type System } from "./harness.js";
import { makeCa, tlsEnv, writePems } from "./tls-certs.js";

const BIN = fileURLToPath(new URL("../client/bin/voting.js", import.meta.url));
const { ca, env: tlsSettings } = await tlsEnv();
const caPem = Buffer.from(ca.cert);

async function refusedWith(call: Promise<unknown>, code: Status, details?: RegExp): Promise<ServiceError> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as ServiceError | undefined;
  expect(err, "the call should have been refused").toBeDefined();
  expect(Status[err!.code], err!.details).toBe(Status[code]);
  if (details) expect(err!.details).toMatch(details);
  return err!;
}

/** A client of the system's servers with the given transport; fails fast (no waitForReady). */
function clientWith(sys: System, opts: { tls?: TlsOptions; token?: string }) {
  return createVotingClient({ authAddr: sys.addrs.auth, voteAddr: sys.addrs.vote, tallyAddr: sys.addrs.tally, deadlineMs: 5_000, ...opts });
}

function healthOf(addr: string, tls: TlsOptions | undefined): Promise<string> {
  const Health = makeGenericClientConstructor(healthService, "Health");
  const client = new Health(addr, tls ? credentials.createSsl(tls.ca) : credentials.createInsecure());
  return new Promise((resolve, reject) =>
    (client as any).check({ service: "" }, { deadline: Date.now() + 5_000 }, (err: Error | null, res: { status: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    }),
  );
}

describeOnStores(
  "the system over TLS",
  (system) => {
    it("when a person registers, logs in, votes, reads and watches results over TLS, then every step works", async () => {
      const cand = await system().user("candidate");
      const voter = await system().user("voter");
      const anon = system().client();
      const { election } = await anon.elections.getElection({});
      // The candidate list comes from auth-server: vote-server asked it over mTLS with its service token.
      expect(election!.candidates.map((c) => c.id)).toContain(cand.id);

      const watch = await anon.tally.watchResults({});
      const before = (await anon.tally.getResults({})).result!.totalBallots;
      const { receipt } = await system().client(voter.token).votes.castVote({ ballot: { choices: [cand.id] } });
      expect(receipt!.trackingCode).toMatch(/^[0-9A-Z]{26}$/);
      // tally-server reads the ballot log from vote-server over mTLS.
      for await (const msg of watch) if (msg.result!.totalBallots === before + 1) break;
      const { result } = await anon.tally.getResults({});
      expect(result!.candidates.find((c) => c.candidateId === cand.id)!.votes).toBe("1");
    });

    it("when a health check asks over TLS, then every server answers SERVING", async () => {
      const sys = system();
      for (const addr of Object.values(sys.addrs)) expect(await healthOf(addr, { ca: caPem })).toBe("SERVING");
    });

    it("when the CLI is given --ca (or VOTING_CA_FILE), then it works over TLS; without it, it cannot connect", async () => {
      const sys = system();
      const home = await mkdtemp(join(tmpdir(), "voting-cli-tls-"));
      const env = { ...process.env, AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, VOTING_CONFIG_DIR: home } as Record<string, string>;
      delete env.VOTING_CA_FILE;
      const voting = (args: string[], extra: Record<string, string> = {}) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra } });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d) => (stdout += d));
          child.stderr.on("data", (d) => (stderr += d));
          child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
      try {
        const name = uniqueName("cli-tls");
        const registered = await voting(["--ca", sys.env.TLS_CA_FILE, "register", name, "cli-tls-pw", "voter", "--json"]);
        expect(registered.stderr).toBe("");
        expect(JSON.parse(registered.stdout)).toMatchObject({ username: name, role: "voter" });
        const login = await voting(["login", name, "cli-tls-pw"], { VOTING_CA_FILE: sys.env.TLS_CA_FILE });
        expect(login.code).toBe(0);
        const results = await voting(["--ca", sys.env.TLS_CA_FILE, "results", "--json"]);
        expect(results.code).toBe(0);

        const plain = await voting(["candidates"]);
        expect(plain.code).toBe(1);
        expect(plain.stderr).toMatch(/server unavailable .*give their CA with --ca/);
        const missing = await voting(["--ca", join(home, "no-such-ca.pem"), "candidates"]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/cannot read the CA file/);
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    });

    it("when a plaintext client calls a TLS server, then the call fails UNAVAILABLE", async () => {
      const plain = clientWith(system(), {});
      await refusedWith(plain.elections.getElection({}), Status.UNAVAILABLE);
      await refusedWith(plain.auth.getJwks(), Status.UNAVAILABLE);
      plain.close();
      await expect(healthOf(system().addrs.tally, undefined)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    });

    it("when a client trusts another CA, then it refuses the servers (UNAVAILABLE)", async () => {
      const other = await makeCa("another CA");
      const c = clientWith(system(), { tls: { ca: Buffer.from(other.cert) } });
      await refusedWith(c.elections.getElection({}), Status.UNAVAILABLE);
      await refusedWith(c.auth.getJwks(), Status.UNAVAILABLE);
      c.close();
    });

    it("when a server's certificate names another host, then a client that trusts the CA refuses it (UNAVAILABLE)", async () => {
      const sys = system();
      const wrong = await ca.issue("elsewhere", ["elsewhere.example"]);
      const files = await writePems({ "wrong.pem": wrong.cert, "wrong.key": wrong.key });
      const impostor = await startAuthServer(
        readAuthConfig({ ...sys.env, AUTH_PORT: "0", TLS_CERT_FILE: files["wrong.pem"], TLS_KEY_FILE: files["wrong.key"] }),
        createLogger("test", "silent"),
      );
      try {
        const c = createVotingClient({ authAddr: `127.0.0.1:${impostor.port}`, tls: { ca: caPem }, deadlineMs: 5_000 });
        await refusedWith(c.auth.getJwks(), Status.UNAVAILABLE);
        c.close();
      } finally {
        await impostor.stop();
      }
    });

    it("when a caller without a service client certificate uses a service token, then every server refuses it (UNAUTHENTICATED)", async () => {
      const sys = system();
      // The worst case: a real service token has leaked (issued to the peer server over mTLS).
      const service = await ca.issue("vote-server", ["vote-server"]);
      const serviceTls = { ca: caPem, cert: Buffer.from(service.cert), key: Buffer.from(service.key) };
      const assertion = () => signServiceAssertion(loadServicePrivateKey(sys.env.VOTE_SERVICE_KEY_FILE, "VOTE_SERVICE_KEY_FILE"), "svc-vote", sys.env.JWT_ISSUER ?? "voting-auth");
      const issuer = clientWith(sys, { tls: serviceTls });
      const token = (await issuer.auth.issueServiceToken({ assertion: await assertion() })).accessToken;
      issuer.close();
      // Even with the service's signing key, no service token without a client certificate of the CA.
      const bare = clientWith(sys, { tls: { ca: caPem } });
      await refusedWith(bare.auth.issueServiceToken({ assertion: await assertion() }), Status.UNAUTHENTICATED, /client certificate/);
      bare.close();
      const noCert = clientWith(sys, { tls: { ca: caPem }, token });
      const tokenNeedsCert = /client certificate/;
      await refusedWith(noCert.auth.listUsers({}), Status.UNAUTHENTICATED, tokenNeedsCert);
      await refusedWith(noCert.auth.getUser({ id: 1 }), Status.UNAUTHENTICATED, tokenNeedsCert);
      await refusedWith(noCert.elections.listElections({}), Status.UNAUTHENTICATED, tokenNeedsCert);
      await refusedWith(noCert.tally.getResults({}), Status.UNAUTHENTICATED, tokenNeedsCert);
      noCert.close();

      // A client certificate from any other CA counts for nothing.
      const other = await makeCa("another CA");
      const forged = await other.issue("vote-server", ["localhost", "127.0.0.1"]);
      const foreign = clientWith(sys, { tls: { ca: caPem, cert: Buffer.from(forged.cert), key: Buffer.from(forged.key) }, token });
      await refusedWith(foreign.auth.listUsers({}), Status.UNAUTHENTICATED, tokenNeedsCert);
      foreign.close();

      // With the system CA's client certificate, as the servers present to each other, it works.
      const peer = clientWith(sys, { tls: serviceTls, token });
      expect((await peer.auth.listUsers({})).users.length).toBeGreaterThan(0);
      await peer.elections.listElections({});
      peer.close();
    });

    it("when a vote-server certificate asks for a svc-tally token, then auth-server refuses (PERMISSION_DENIED) even with svc-tally's key", async () => {
      const sys = system();
      // The worst case: vote-server's host also holds svc-tally's private key.
      const vote = await ca.issue("vote-server", ["vote-server", "localhost"]);
      const tally = await ca.issue("tally-server", ["tally-server"]);
      const asTally = () => signServiceAssertion(loadServicePrivateKey(sys.env.TALLY_SERVICE_KEY_FILE, "TALLY_SERVICE_KEY_FILE"), "svc-tally", sys.env.JWT_ISSUER ?? "voting-auth");
      const asVote = () => signServiceAssertion(loadServicePrivateKey(sys.env.VOTE_SERVICE_KEY_FILE, "VOTE_SERVICE_KEY_FILE"), "svc-vote", sys.env.JWT_ISSUER ?? "voting-auth");
      const fromVote = clientWith(sys, { tls: { ca: caPem, cert: Buffer.from(vote.cert), key: Buffer.from(vote.key) } });
      await refusedWith(fromVote.auth.issueServiceToken({ assertion: await asTally() }), Status.PERMISSION_DENIED, /svc-tally.*tally-server/);
      // Its own account still works, and tally-server's certificate gets svc-tally's token.
      expect((await fromVote.auth.issueServiceToken({ assertion: await asVote() })).accessToken).not.toBe("");
      fromVote.close();
      const fromTally = clientWith(sys, { tls: { ca: caPem, cert: Buffer.from(tally.cert), key: Buffer.from(tally.key) } });
      await refusedWith(fromTally.auth.issueServiceToken({ assertion: await asVote() }), Status.PERMISSION_DENIED);
      expect((await fromTally.auth.issueServiceToken({ assertion: await asTally() })).accessToken).not.toBe("");
      fromTally.close();
    });

    it("when a public caller has no client certificate, then its user tokens work as before", async () => {
      const voter = await system().user("voter");
      const c = clientWith(system(), { tls: { ca: caPem }, token: voter.token });
      const { user } = await c.auth.getUser({ id: voter.id });
      expect(user!.username).toBe(voter.username);
      c.close();
    });
  },
  tlsSettings,
);

describe("an RPC that only peer servers call (access rule service-peer)", () => {
  // How a token-issuing RPC for services is guarded: no token, but with TLS on only callers
  // with a client certificate of the CA. The handler sees whose certificate it is.
  let callerNames: string[] | undefined;
  const startWith = (tls: TlsMaterial | undefined) =>
    startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      services: [
        {
          name: "voting.auth.v1.AuthService",
          definition: authV1.AuthServiceService,
          implementation: {
            getJwks: (call: ServerUnaryCall<unknown, unknown>, cb: (err: null, res: authV1.GetJwksResponse) => void) => {
              const cert = verifiedClientCertificate(call);
              callerNames = cert && certificateNames(cert);
              cb(null, authV1.GetJwksResponse.fromPartial({}));
            },
          },
        },
      ],
      access: { "/voting.auth.v1.AuthService/GetJwks": "service-peer" },
      verifier: { verifyAccessToken: () => Promise.reject(new UnauthenticatedError("no tokens here")) },
      log: createLogger("test", "silent"),
      tls,
    });
  const jwksWith = async (port: number, tls: TlsOptions | undefined) => {
    const c = createVotingClient({ authAddr: `127.0.0.1:${port}`, tls, deadlineMs: 5_000 });
    try {
      return await c.auth.getJwks();
    } finally {
      c.close();
    }
  };

  it("when TLS is on, then a caller without a client certificate of the CA is refused (UNAUTHENTICATED) and a peer server is let in", async () => {
    const server = await startWith(loadTls(tlsSettings));
    try {
      await refusedWith(jwksWith(server.port, { ca: caPem }), Status.UNAUTHENTICATED, /client certificate/);
      const other = await makeCa("another CA");
      const forged = await other.issue("vote-server", ["vote-server"]);
      await refusedWith(jwksWith(server.port, { ca: caPem, cert: Buffer.from(forged.cert), key: Buffer.from(forged.key) }), Status.UNAUTHENTICATED);
      const peer = await ca.issue("vote-server", ["vote-server", "localhost"]);
      await jwksWith(server.port, { ca: caPem, cert: Buffer.from(peer.cert), key: Buffer.from(peer.key) });
      expect(callerNames).toEqual(["vote-server", "localhost"]);
    } finally {
      await server.shutdown(0);
    }
  });

  it("when TLS is off, then it is open to every caller (the RPC authenticates them itself)", async () => {
    const server = await startWith(undefined);
    try {
      await jwksWith(server.port, undefined);
      expect(callerNames).toBeUndefined();
    } finally {
      await server.shutdown(0);
    }
  });
});

describe("TLS settings", () => {
  it("when only some of TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE are set, then start-up refuses with a config error", () => {
    expect(() => loadTls({ ...tlsSettings, TLS_CA_FILE: "" })).toThrow(ConfigError);
    expect(() => loadTls({ ...tlsSettings, TLS_KEY_FILE: "" })).toThrow(/TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE together/);
    expect(loadTls({ TLS_CERT_FILE: "", TLS_KEY_FILE: "", TLS_CA_FILE: "" })).toBeUndefined();
  });

  it("when SERVICE_CERT_NAMES is not account=name pairs, then start-up refuses with a config error", () => {
    expect(readAuthConfig({ SERVICE_CERT_NAMES: " svc-vote=vote-a , svc-tally=tally-b" }).SERVICE_CERT_NAMES).toEqual(new Map([["svc-vote", "vote-a"], ["svc-tally", "tally-b"]]));
    expect(() => readAuthConfig({ SERVICE_CERT_NAMES: "svc-vote" })).toThrow(/SERVICE_CERT_NAMES.*account=certificate-name/s);
  });

  it("when a file is missing, not PEM, or the key does not match the certificate, then start-up says which", async () => {
    const other = await ca.issue("other", ["localhost"]);
    const files = await writePems({ "other.key": other.key, "junk.pem": "not a certificate\n" });
    expect(() => loadTls({ ...tlsSettings, TLS_CERT_FILE: "/nonexistent/cert.pem" })).toThrow(/TLS_CERT_FILE: cannot read/);
    expect(() => loadTls({ ...tlsSettings, TLS_CERT_FILE: files["junk.pem"] })).toThrow(/not a PEM certificate/);
    expect(() => loadTls({ ...tlsSettings, TLS_KEY_FILE: files["junk.pem"] })).toThrow(/TLS_KEY_FILE is not a PEM private key/);
    expect(() => loadTls({ ...tlsSettings, TLS_KEY_FILE: files["other.key"] })).toThrow(/does not belong/);
    const tls = loadTls(tlsSettings)!;
    expect(tls.ca.toString()).toBe(await readFile(tlsSettings.TLS_CA_FILE, "utf8"));
  });
});

