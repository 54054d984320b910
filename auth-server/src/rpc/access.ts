import type { AccessTable } from "@voting/server-kit";

/** Who may call each AuthService RPC. Finer rules (read yourself, list candidates) live in domain/. */
export const authAccess: AccessTable = {
  "/voting.auth.v1.AuthService/Register": "public",
  "/voting.auth.v1.AuthService/Login": "public",
  "/voting.auth.v1.AuthService/RefreshToken": "public",
  "/voting.auth.v1.AuthService/GetJwks": "public",
  // Authenticated by the client assertion in the request, not by a bearer token.
  // The signed assertion authenticates the caller; with TLS on, only a peer server holding a
  // client certificate of the CA may even ask (mTLS).
  "/voting.auth.v1.AuthService/IssueServiceToken": "service-peer",
  "/voting.auth.v1.AuthService/GetUser": ["voter", "candidate", "admin", "service"],
  "/voting.auth.v1.AuthService/ListUsers": ["voter", "candidate", "admin", "service"],
};
