// Service accounts and the official under a login attack: services authenticate with signed
// client assertions, never through Login, so nobody can lock them out.
import { afterAll, beforeAll, expect, it } from "vitest";
import { authV1, createVotingClient, Status, voteV1, type VotingClient } from "@voting/client";
import { describeOnStores, eventually, uniqueName } from "./harness.js";
import { proxyFrom, type Proxy } from "./proxy.js";
import { decodeJwt, generateKeyPair, importPKCS8, SignJWT } from "jose";
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";

const ATTACKS = 300;

async function attack(client: VotingClient, username: string, n: number) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next++ < n) await client.auth.login({ username, password: `guess-${next}-password` }).catch(() => undefined);
    }),
  );
}

describeOnStores("service accounts and the admin under a login attack", (system) => {
  let proxy: Proxy;
  let elsewhere: VotingClient;
  beforeAll(async () => {
    proxy = await proxyFrom("127.0.0.2", system().addrs.auth);
    elsewhere = createVotingClient({ authAddr: proxy.addr, voteAddr: system().addrs.vote, waitForReady: true });
  });
  afterAll(async () => {
    elsewhere.close();
    await proxy.close();
  });

  it("when Login is tried as svc-vote or svc-tally with any password, then UNAUTHENTICATED like a wrong password", async () => {
    const anon = system().client();
    for (const username of ["svc-vote", "svc-tally", "SVC-Vote"]) {
      for (const password of ["a-long-service-password", "wrong password", ""]) {
        await expect(anon.auth.login({ username, password })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, details: "invalid username or password" });
      }
    }
  });

  it("when svc-vote, svc-tally and the admin are attacked with hundreds of failed logins, then votes, elections and results keep working, also after restarts, and the admin runs an election from another address", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Attacked"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace"], resultsWhileOpen: true });
    await admin.elections.openElection({ electionId: election!.id });
    const voters = [await sys.user("voter"), await sys.user("voter")];

    const attacker = sys.client();
    await Promise.all(["svc-vote", "svc-tally", sys.env.VOTING_ADMIN_USERNAME].map((u) => attack(attacker, u, ATTACKS)));
    await sys.restartVote();
    await sys.restartTally();

    const id = election!.id;
    await sys.client(voters[0].token).votes.castVote({ electionId: id, ballot: { choices: [1] } });
    expect((await sys.client(voters[1].token).elections.getElection({ electionId: id })).election?.ballotCount).toBe(1);
    await sys.client(voters[1].token).votes.castVote({ electionId: id, ballot: { choices: [2] } });
    const results = await eventually(async () => {
      const r = (await sys.client().tally.getResults({ electionId: id })).result;
      return r?.countedThroughSeq === 2 ? r : undefined;
    }, 15_000, "tally counted both ballots");
    expect(results.countedThroughSeq).toBe(2);

    const login = await elsewhere.auth.login({ username: sys.env.VOTING_ADMIN_USERNAME, password: sys.env.VOTING_ADMIN_PASSWORD });
    const official = createVotingClient({ authAddr: sys.addrs.auth, voteAddr: sys.addrs.vote, token: login.tokens!.accessToken, waitForReady: true });
    try {
      const made = (await official.elections.createElection({ title: uniqueName("Still run"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] })).election!;
      expect((await official.elections.openElection({ electionId: made.id })).election?.state).toBe(voteV1.ElectionState.ELECTION_STATE_OPEN);
      expect((await official.elections.closeElection({ electionId: made.id })).election?.state).toBe(voteV1.ElectionState.ELECTION_STATE_CLOSED);
    } finally {
      official.close();
    }
    expect(login.user?.role).toBe(authV1.Role.ROLE_ADMIN);
  }, 60_000);
});

describeOnStores("service client assertions", (system) => {
  const issuer = () => system().env.JWT_ISSUER ?? "voting-auth";
  const voteKey = async () => importPKCS8(await readFile(system().env.VOTE_SERVICE_KEY_FILE, "utf8"), "EdDSA");
  const assertion = async (over: { key?: CryptoKey; kid?: string; iss?: string; sub?: string; aud?: string; iat?: number; exp?: number; jti?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: over.kid ?? "svc-vote" })
      .setIssuer(over.iss ?? "svc-vote")
      .setSubject(over.sub ?? "svc-vote")
      .setAudience(over.aud ?? issuer())
      .setIssuedAt(over.iat ?? now)
      .setExpirationTime(over.exp ?? now + 60)
      .setJti(over.jti ?? randomUUID())
      .sign(over.key ?? (await voteKey()));
  };
  const issue = (a: string) => system().client().auth.issueServiceToken({ assertion: a });

  it("when a service presents a fresh assertion signed with its key, then it gets a service access token", async () => {
    const { accessToken } = await issue(await assertion());
    expect(decodeJwt(accessToken)).toMatchObject({ role: "service", name: "svc-vote", aud: system().env.JWT_AUDIENCE ?? "voting" });
    const users = await system().client(accessToken).auth.listUsers({});
    expect(users.users.length).toBeGreaterThan(0);
  });

  it("when an assertion is replayed, expired, long-lived, for another audience or account, or signed by a wrong key, then UNAUTHENTICATED", async () => {
    const now = Math.floor(Date.now() / 1000);
    const once = await assertion();
    await issue(once);
    const { privateKey: stranger } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const bad = {
      replayed: once,
      expired: await assertion({ iat: now - 600, exp: now - 300 }),
      longLived: await assertion({ exp: now + 86_400 }),
      otherAudience: await assertion({ aud: "someone-else" }),
      otherAccount: await assertion({ kid: "svc-tally", iss: "svc-tally", sub: "svc-tally" }),
      issuerNotSubject: await assertion({ sub: "admin" }),
      unknownAccount: await assertion({ kid: "svc-admin", iss: "svc-admin", sub: "svc-admin" }),
      wrongKey: await assertion({ key: stranger }),
      algNone: `${Buffer.from(JSON.stringify({ alg: "none", kid: "svc-vote" })).toString("base64url")}.${Buffer.from(JSON.stringify({ iss: "svc-vote", sub: "svc-vote", aud: issuer(), exp: now + 60, iat: now, jti: randomUUID() })).toString("base64url")}.`,
      garbage: "not-a-jwt",
    };
    for (const [what, a] of Object.entries(bad)) {
      await expect(issue(a), what).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    }
    await expect(issue("")).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });
});
