import type { Generated } from "kysely";

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: string;
  created_at: number;
}

export interface SigningKeysTable {
  kid: string;
  created_at: number;
  /** The private key sealed with the key-encryption key (AES-256-GCM); see server-kit signing-keys. */
  sealed_key: string | null;
}

export interface UsedAssertionsTable {
  id: string;
  expires_at: number;
}

/** One row per login: the refresh token that may be used next, and whether the login is revoked. */
export interface RefreshFamiliesTable {
  family_id: string;
  user_id: number;
  current_jti: string;
  revoked: number;
  /** ms since the epoch; the row may be deleted after it. */
  expires_at: number;
}

export interface AuthDb {
  users: UsersTable;
  used_assertions: UsedAssertionsTable;
  auth_signing_keys: SigningKeysTable;
  refresh_families: RefreshFamiliesTable;
}
