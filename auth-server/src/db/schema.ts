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

export interface AuthDb {
  users: UsersTable;
  used_assertions: UsedAssertionsTable;
  auth_signing_keys: SigningKeysTable;
}
