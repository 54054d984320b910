// TLS on every listener, and mTLS between the servers. One listener serves everyone: it asks
// every caller for a client certificate but does not insist, because public callers (CLI,
// grpcurl) have none. A certificate that chains to TLS_CA_FILE marks a service; the auth
// interceptor accepts a service token only on a call that carries one.
import { ServerCredentials, type ServerInterceptingCallInterface } from "@grpc/grpc-js";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { PeerCertificate } from "node:tls";
import { ConfigError } from "./config.js";

/** PEM material of one server: its certificate chain and key, and the CA of the system. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface TlsConfig {
  TLS_CERT_FILE: string;
  TLS_KEY_FILE: string;
  TLS_CA_FILE: string;
}

function readPem(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads the three files, or returns undefined when none is set (plaintext). A partial set is
 * an error: a server that serves TLS but cannot verify its peers, or the reverse, is a mistake.
 */
export function loadTls(config: TlsConfig): TlsMaterial | undefined {
  const names = ["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE"] as const;
  const set = names.filter((n) => config[n] !== "");
  if (set.length === 0) return undefined;
  if (set.length < names.length) {
    throw new ConfigError(`TLS needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE together; only ${set.join(", ")} is set`);
  }
  const tls = { cert: readPem("TLS_CERT_FILE", config.TLS_CERT_FILE), key: readPem("TLS_KEY_FILE", config.TLS_KEY_FILE), ca: readPem("TLS_CA_FILE", config.TLS_CA_FILE) };
  // Fail at start with a clear message rather than on the first handshake.
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
    new X509Certificate(tls.ca);
  } catch (err) {
    throw new ConfigError(`TLS_CERT_FILE or TLS_CA_FILE is not a PEM certificate: ${(err as Error).message}`);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(tls.key));
  } catch (err) {
    throw new ConfigError(`TLS_KEY_FILE is not a PEM private key: ${(err as Error).message}`);
  }
  if (!matches) throw new ConfigError("TLS_KEY_FILE does not belong to the certificate in TLS_CERT_FILE");
  return tls;
}

/**
 * grpc-js's createSsl either never asks for a client certificate or rejects connections
 * without one; this asks, verifies against the CA, and lets the call see the result
 * (getAuthContext().sslPeerCertificate is set only for a certificate that verified).
 */
class OptionalClientCertificateCredentials extends ServerCredentials {
  constructor(tls: TlsMaterial) {
    super({ requestCert: true, rejectUnauthorized: false }, { ca: tls.ca, cert: tls.cert, key: tls.key });
  }
  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(tls: TlsMaterial | undefined): ServerCredentials {
  return tls ? new OptionalClientCertificateCredentials(tls) : ServerCredentials.createInsecure();
}

/** The caller's client certificate if it verified against TLS_CA_FILE, else undefined. */
export function verifiedClientCertificate(call: Pick<ServerInterceptingCallInterface, "getAuthContext">): PeerCertificate | undefined {
  return call.getAuthContext().sslPeerCertificate;
}

/** Names a verified client certificate speaks for: its subject CN and DNS SANs. */
export function certificateNames(cert: PeerCertificate): string[] {
  const sans = (cert.subjectaltname ?? "")
    .split(", ")
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4));
  const cn = cert.subject?.CN;
  return [...new Set([...(typeof cn === "string" ? [cn] : []), ...sans])];
}
