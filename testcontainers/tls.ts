/**
 * Throwaway TLS material for engine clusters: one private CA, one node
 * certificate (server AND client auth: nodes present it to each other on the
 * cluster bus and on replication links) and one client certificate, all from
 * `@peculiar/x509` on Node's WebCrypto — no `openssl` binary involved.
 * ECDSA P-256 keeps generation to a few milliseconds.
 *
 * The library is imported lazily: clusters without TLS (and every client)
 * never load it (it installs the `reflect-metadata` polyfill it needs).
 */
import { randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir } from './process-registry.js';

/** PEM strings a TLS client passes to `tls.connect` (and to slotwise's `tls` option). */
export interface TlsClientOptions {
  /** The CA that signed the nodes' certificates. */
  readonly ca: string;
  /** Client certificate (needed when the cluster requires mutual TLS). */
  readonly cert: string;
  /** Private key of `cert`. */
  readonly key: string;
}

/** Everything one TLS cluster needs, as PEM strings. */
export interface TlsMaterial {
  /** The CA certificate that signed both leaf certificates. */
  readonly ca: string;
  /** The nodes' certificate: SANs for every host in `hosts`, server + client auth. */
  readonly nodeCert: string;
  /** Private key of `nodeCert` (PKCS#8). */
  readonly nodeKey: string;
  /** Client certificate (client auth only, no SANs), for mutual TLS. */
  readonly clientCert: string;
  /** Private key of `clientCert` (PKCS#8). */
  readonly clientKey: string;
  /** Host names and IPs the node certificate is valid for. */
  readonly hosts: readonly string[];
}

/** Where {@link writeTlsMaterial} put the files. */
export interface TlsFiles {
  /** The private temp dir (mode 0700) holding every file below. */
  readonly dir: string;
  /** `ca.crt`: the CA clients verify the nodes with. */
  readonly caFile: string;
  /** `node.crt`: the certificate every node presents. */
  readonly nodeCertFile: string;
  /** `node.key` (mode 0600). */
  readonly nodeKeyFile: string;
  /** `client.crt`: the certificate a client presents for mutual TLS. */
  readonly clientCertFile: string;
  /** `client.key` (mode 0600). */
  readonly clientKeyFile: string;
}

/** Options of {@link generateTlsMaterial}. */
export interface TlsMaterialOptions {
  /** Names and IPs the node certificate covers. @default ['127.0.0.1', '::1', 'localhost'] */
  readonly hosts?: readonly string[];
  /** Validity of every certificate, in days. @default 7 */
  readonly days?: number;
  /** Common name of the CA (tests make a second, foreign CA with another name). @default 'slotwise engine CA' */
  readonly caName?: string;
}

/** Default SANs of the node certificate: the loopback addresses the engine announces and binds. */
export const DEFAULT_TLS_HOSTS: readonly string[] = Object.freeze(['127.0.0.1', '::1', 'localhost']);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * Generates a fresh CA, a node certificate and a client certificate signed by
 * it. Nothing is written to disk (see {@link writeTlsMaterial}).
 */
export async function generateTlsMaterial(options: TlsMaterialOptions = {}): Promise<TlsMaterial> {
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const hosts = [...(options.hosts ?? DEFAULT_TLS_HOSTS)];
  const days = options.days ?? 7;
  // Back-dated an hour: a node whose clock is slightly behind must not see "not yet valid".
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(Date.now() + days * 86_400_000);
  const subtle = webcrypto.subtle;
  const newKeys = () => subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const [caKeys, nodeKeys, clientKeys] = await Promise.all([newKeys(), newKeys(), newKeys()]);
  const caName = `CN=${options.caName ?? 'slotwise engine CA'}`;

  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leaf = async (cn: string, keys: CryptoKeyPair, usages: string[], san: boolean) =>
    x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${cn}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(usages),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
        ...(san ? [new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })))] : []),
      ],
    });
  const serverAuth = '1.3.6.1.5.5.7.3.1';
  const clientAuth = '1.3.6.1.5.5.7.3.2';
  const [nodeCert, clientCert] = await Promise.all([
    leaf(hosts[0] ?? 'redis-node', nodeKeys, [serverAuth, clientAuth], true),
    leaf('slotwise-client', clientKeys, [clientAuth], false),
  ]);
  const pkcs8 = async (key: CryptoKey) => x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
  return Object.freeze({
    ca: ca.toString('pem'),
    nodeCert: nodeCert.toString('pem'),
    nodeKey: await pkcs8(nodeKeys.privateKey),
    clientCert: clientCert.toString('pem'),
    clientKey: await pkcs8(clientKeys.privateKey),
    hosts: Object.freeze(hosts),
  });
}

/**
 * Writes the material into a new private temp dir (`slotwise-tls-*`, mode
 * 0700, keys 0600). The dir is tracked like node dirs: the engine deletes it
 * on `stop()` and at process exit.
 */
export function writeTlsMaterial(m: TlsMaterial): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-tls-'));
  chmodSync(dir, 0o700);
  trackDir(dir);
  const file = (name: string, pem: string, mode: number) => {
    const path = join(dir, name);
    writeFileSync(path, pem, { mode });
    return path;
  };
  return Object.freeze({
    dir,
    caFile: file('ca.crt', m.ca, 0o644),
    nodeCertFile: file('node.crt', m.nodeCert, 0o644),
    nodeKeyFile: file('node.key', m.nodeKey, 0o600),
    clientCertFile: file('client.crt', m.clientCert, 0o644),
    clientKeyFile: file('client.key', m.clientKey, 0o600),
  });
}

/** Positive 16-byte serial number, hex (RFC 5280: at most 20 octets, positive). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}
