/**
 * Certificates for TLS tests, made at test time with the `openssl` CLI in a temp
 * directory: a test CA and leaf certificates signed by it (good RSA 2048, good
 * EC P-256, expired, expiring in 10 days, wrong host, RSA 1024), plus a
 * self-signed one. Leaf certificates name `localhost` and `127.0.0.1`. No
 * network, nothing downloaded.
 *
 * ```ts
 * const certs = makeTestCerts();        // ~1 s: key generation
 * tls.createServer({ ...certs.good }, …) // { key, cert } PEM strings
 * probeTls(target, { trust: { ca: certs.caPem, label: 'test CA' } });
 * certs.cleanup();
 * ```
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KeyAndCert {
  readonly key: string;
  readonly cert: string;
  /** Path of the PEM certificate (for `--ca`). */
  readonly certFile: string;
}

export interface TestCerts {
  readonly dir: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly good: KeyAndCert;
  readonly ec: KeyAndCert;
  readonly expired: KeyAndCert;
  readonly expiring: KeyAndCert;
  readonly selfSigned: KeyAndCert;
  readonly wrongHost: KeyAndCert;
  readonly weakRsa: KeyAndCert;
  cleanup(): void;
}

/** The openssl binary, or null when none is installed (tests then skip with the reason). */
export function opensslPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const REQ_CONFIG = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ self_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
`;

const CA_CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
[ any_name ]
commonName = supplied
[ leaf_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[ wrong_host_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example.com
authorityKeyIdentifier = keyid
`;

export function makeTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-tls-'));
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  fs.writeFileSync(path.join(dir, 'req.cnf'), REQ_CONFIG);
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CONFIG);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.mkdirSync(path.join(dir, 'issued'));

  ossl('req', '-x509', '-config', 'req.cnf', '-extensions', 'ca_ext', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Steward Test CA', '-days', '3650');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'leaf.key');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', 'weak.key');
  ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key');

  const sign = (name: string, keyFile: string, cn: string, ext: string, validity: string[]): KeyAndCert => {
    ossl('req', '-new', '-config', 'req.cnf', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    ossl('ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.crt`, '-extensions', ext, ...validity);
    return read(name, keyFile);
  };
  const read = (name: string, keyFile: string): KeyAndCert => ({
    key: fs.readFileSync(path.join(dir, keyFile), 'utf8'),
    cert: fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8'),
    certFile: path.join(dir, `${name}.crt`),
  });

  const good = sign('good', 'leaf.key', 'localhost', 'leaf_ext', ['-days', '365']);
  const ec = sign('ec', 'ec.key', 'localhost', 'leaf_ext', ['-days', '365']);
  const expired = sign('expired', 'leaf.key', 'localhost', 'leaf_ext', ['-startdate', '20240101000000Z', '-enddate', '20240201000000Z']);
  const expiring = sign('expiring', 'leaf.key', 'localhost', 'leaf_ext', ['-days', '10']);
  const wrongHost = sign('wrong-host', 'leaf.key', 'wrong.example.com', 'wrong_host_ext', ['-days', '365']);
  const weakRsa = sign('weak', 'weak.key', 'localhost', 'leaf_ext', ['-days', '365']);
  ossl('req', '-x509', '-config', 'req.cnf', '-extensions', 'self_ext', '-key', 'leaf.key', '-subj', '/CN=localhost', '-out', 'self-signed.crt', '-days', '365');
  const selfSigned = read('self-signed', 'leaf.key');

  return {
    dir,
    caPem: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    caFile: path.join(dir, 'ca.crt'),
    good,
    ec,
    expired,
    expiring,
    selfSigned,
    wrongHost,
    weakRsa,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
