/**
 * TLS termination for credential placeholders in the local executor.
 *
 * A call that carries placeholders gets its own certificate authority, made for that call and
 * thrown away with it: its certificate (never its key) is bound into the sandbox and named by
 * the usual trust variables, and the proxy terminates each CONNECT tunnel with a leaf
 * certificate for the requested host signed by it. Node has no X.509 issuing API, so the
 * `openssl` command line makes the certificates (execFile, never a shell; the host has
 * already passed `decideEgress`, which refuses malformed names).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface InterceptCa {
  /** Host path of the CA certificate (PEM) to bind into the sandbox. */
  certPath: string;
  /** Key and certificate for `host`, minted once per call and host. */
  leafFor(host: string): Promise<{ key: string; cert: string }>;
}

/** Trust variables understood by OpenSSL, curl, Node, Python requests and git. */
export const CA_TRUST_VARIABLES = ['SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO'];

export async function createInterceptCa(dir: string): Promise<InterceptCa> {
  const caKey = join(dir, 'ca.key');
  const certPath = join(dir, 'ca.pem');
  const leafKeyPath = join(dir, 'leaf.key');
  const curve = ['-pkeyopt', 'ec_paramgen_curve:P-256'];
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    ...curve,
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=Portcullis sandbox CA ${randomBytes(6).toString('hex')}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    caKey,
    '-out',
    certPath,
  ]);
  await run('openssl', ['genpkey', '-algorithm', 'EC', ...curve, '-out', leafKeyPath]);
  // Private keys stay readable by the runner only (openssl honours the umask, often 0644).
  await Promise.all([chmod(caKey, 0o600), chmod(leafKeyPath, 0o600)]);
  const leafKey = await readFile(leafKeyPath, 'utf8');
  const leaves = new Map<string, Promise<{ key: string; cert: string }>>();

  const mint = async (host: string) => {
    const name = randomBytes(8).toString('hex');
    const ext = join(dir, `${name}.ext`);
    const csr = join(dir, `${name}.csr`);
    const out = join(dir, `${name}.pem`);
    const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
    await writeFile(
      ext,
      `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    await run('openssl', ['req', '-new', '-key', leafKeyPath, '-subj', '/CN=portcullis-intercept', '-out', csr]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      certPath,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      out,
    ]);
    return { key: leafKey, cert: await readFile(out, 'utf8') };
  };

  return {
    certPath,
    leafFor(host) {
      let leaf = leaves.get(host);
      if (!leaf) {
        leaf = mint(host);
        leaves.set(host, leaf);
      }
      return leaf;
    },
  };
}
