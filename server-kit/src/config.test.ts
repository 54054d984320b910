import { describe, expect, it } from "vitest";
import { ConfigError, int, oneOf, readConfig, str } from "./config.js";
import { commonSettings, signingKeySettings } from "./settings.js";
import { decodePageToken, encodePageToken, parseDatabaseUrl } from "./db.js";

describe("configuration", () => {
  const settings = {
    HOST: { doc: "bind", default: "127.0.0.1", parse: str },
    PORT: { doc: "port", default: "50051", parse: int(0, 65535) },
    MODE: { doc: "mode", parse: oneOf("a", "b") },
  };

  it("applies defaults and returns a frozen typed object", () => {
    const c = readConfig(settings, { MODE: "a" });
    expect(c).toEqual({ HOST: "127.0.0.1", PORT: 50051, MODE: "a" });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      readConfig(settings, { PORT: "70000" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/PORT="70000": must be between 0 and 65535/);
    expect((err as Error).message).toMatch(/MODE is required/);
  });

  it("parses database URLs of both stores", () => {
    expect(parseDatabaseUrl("sqlite:data/voting.sqlite")).toEqual({ dialect: "sqlite", target: "data/voting.sqlite" });
    expect(parseDatabaseUrl("mysql://root@127.0.0.1:3306/test")).toMatchObject({ dialect: "mysql" });
    expect(() => parseDatabaseUrl("postgres://x")).toThrow(/sqlite: or mysql:/);
    expect(() => parseDatabaseUrl("sqlite:")).toThrow(/file path/);
  });

  it("when a secret setting is malformed, then the error names it but never shows its value, and a database URL shows no password", () => {
    const kek = "c2VjcmV0LWtleS1lbmNyeXB0aW9uLWtleS1zaG9ydA"; // base64, but not 32 bytes
    const settings = { DATABASE_URL: commonSettings.DATABASE_URL, KEY_ENCRYPTION_KEY: signingKeySettings.KEY_ENCRYPTION_KEY };
    for (const url of ["postgres://voting:hunter2-Secret@db:5432/voting", "mysql://voting:hunter2-Secret@db:not-a-port/voting", "mysql://voting:hunter2-Secret@@/"]) {
      let err: unknown;
      try {
        readConfig(settings, { DATABASE_URL: url, KEY_ENCRYPTION_KEY: kek });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toMatch(/DATABASE_URL=/);
      expect(message).toMatch(/KEY_ENCRYPTION_KEY/);
      expect(message).not.toContain("hunter2");
      expect(message).not.toContain("Secret");
      expect(message).not.toContain(kek);
      expect(message).not.toContain(kek.slice(0, 12));
    }
  });

  it("page tokens round-trip and refuse anything else", () => {
    expect(decodePageToken(encodePageToken(123))).toBe(123);
    expect(decodePageToken("")).toBe(0);
    expect(decodePageToken("garbage")).toBeUndefined();
    expect(decodePageToken(Buffer.from("after:-1").toString("base64url"))).toBeUndefined();
  });
});
