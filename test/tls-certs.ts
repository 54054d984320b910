// Test-time X.509: a throwaway CA and certificates it signs, as PEM, made with @peculiar/x509
// on Node's WebCrypto (ECDSA P-256), so the tests need no openssl binary.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

x509.cryptoProvider.set(webcrypto as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCa extends Pem {
  /** A certificate signed by this CA: for a server (names go into the SANs) and as a client. */
  issue(commonName: string, names: string[]): Promise<Pem>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`;
}

const serial = () => randomBytes(8).toString("hex").replace(/^[89a-f]/, "1");

export async function makeCa(name = "voting test CA"): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: caCert.toString("pem"),
    key: await keyPem(keys.privateKey),
    async issue(commonName, names) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
      const sans = names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: "ip" as const, value: n } : { type: "dns" as const, value: n }));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${commonName}`,
        issuer: caCert.subject,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 30 * DAY),
        signingAlgorithm: ALG,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension(sans),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { cert: cert.toString("pem"), key: await keyPem(leafKeys.privateKey) };
    },
  };
}

/** Writes the PEMs to files in a fresh temp directory; returns their paths. */
export async function writePems(files: Record<string, string>): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "voting-tls-"));
  const out: Record<string, string> = {};
  for (const [name, pem] of Object.entries(files)) {
    out[name] = join(dir, name);
    await writeFile(out[name], pem, { mode: 0o600 });
  }
  return out;
}

/**
 * A CA, a certificate per server naming it (as scripts/make-certs.sh makes them) and
 * 127.0.0.1/localhost, and the TLS_* env that turns TLS on. TLS_CERT_FILE is auth-server's;
 * "vote-server:TLS_CERT_FILE" and the like give the others theirs (see the harness).
 */
export async function tlsEnv(): Promise<{ ca: TestCa; env: Record<string, string> }> {
  const ca = await makeCa();
  const pems: Record<string, string> = { "ca.pem": ca.cert };
  for (const name of ["auth-server", "vote-server", "tally-server"]) {
    const server = await ca.issue(name, [name, "localhost", "127.0.0.1"]);
    pems[`${name}.pem`] = server.cert;
    pems[`${name}.key`] = server.key;
  }
  const files = await writePems(pems);
  const env: Record<string, string> = { TLS_CERT_FILE: files["auth-server.pem"], TLS_KEY_FILE: files["auth-server.key"], TLS_CA_FILE: files["ca.pem"] };
  for (const name of ["vote-server", "tally-server"]) {
    env[`${name}:TLS_CERT_FILE`] = files[`${name}.pem`];
    env[`${name}:TLS_KEY_FILE`] = files[`${name}.key`];
  }
  return { ca, env };
}
