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
  private_jwk: string;
  public_jwk: string;
  created_at: number;
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
