import type { AccessTable } from "@voting/server-kit";

/** Who may call each AuthService RPC. Finer rules (read yourself, list candidates) live in domain/. */
export const authAccess: AccessTable = {
  "/voting.auth.v1.AuthService/Register": "public",
  "/voting.auth.v1.AuthService/Login": "public",
  "/voting.auth.v1.AuthService/RefreshToken": "public",
  "/voting.auth.v1.AuthService/GetJwks": "public",
  // Authenticated by the client assertion in the request, not by a bearer token.
  "/voting.auth.v1.AuthService/IssueServiceToken": "public",
  "/voting.auth.v1.AuthService/GetUser": ["voter", "candidate", "admin", "service"],
  "/voting.auth.v1.AuthService/ListUsers": ["voter", "candidate", "admin", "service"],
};
