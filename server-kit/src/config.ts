// Configuration comes only from the environment, is checked once at start-up, and every
// problem is reported at once.

export interface Setting<T> {
  /** One line for the README table. */
  doc: string;
  /** Default when the variable is unset or empty; undefined means required. */
  default?: string;
  parse: (raw: string) => T;
  /**
   * Never echo the value in errors: true hides it; a function shows what it returns instead
   * (e.g. a URL without its password).
   */
  secret?: boolean | ((raw: string) => string);
}

export type Settings = Record<string, Setting<unknown>>;
export type ConfigOf<S extends Settings> = { readonly [K in keyof S]: ReturnType<S[K]["parse"]> };

export class ConfigError extends Error {}

export function readConfig<S extends Settings>(settings: S, env: Record<string, string | undefined> = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, s] of Object.entries(settings)) {
    const raw = env[name] === undefined || env[name] === "" ? s.default : env[name];
    if (raw === undefined) {
      problems.push(`${name} is required (${s.doc})`);
      continue;
    }
    try {
      out[name] = s.parse(raw);
    } catch (err) {
      const shown = s.secret === true ? "(secret, not shown)" : JSON.stringify(typeof s.secret === "function" ? s.secret(raw) : raw);
      problems.push(`${name}=${shown}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return Object.freeze(out) as ConfigOf<S>;
}

export const str = (raw: string): string => raw;

/** A URL as it may be shown: the password after `user:` replaced, even when the URL does not parse. */
export const withoutPassword = (raw: string): string => raw.replace(/^([^:/?#]+:\/\/[^/:@?#]*:)[^]*@/, "$1***@");

export function int(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw)) throw new Error("must be a whole number");
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
    return n;
  };
}

export const port = int(0, 65535);

export function oneOf<T extends string>(...values: T[]): (raw: string) => T {
  return (raw) => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(", ")}`);
    return raw as T;
  };
}
