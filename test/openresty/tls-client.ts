// Two real TLS clients that ask for a staple (status_request): `openssl s_client -status`, which
// verifies and prints the stapled response, and Node's tls, which hands over its exact bytes.
import { once } from 'node:events';
import tls from 'node:tls';
import { run } from './processes.js';

export interface SClientResult {
  /** The handshake completed and the chain verified against the root. */
  verified: boolean;
  /** "Cert Status" of the stapled response, or null when none was stapled. */
  certStatus: string | null;
  output: string;
}

export async function sClient(port: number, servername: string, rootCert: string): Promise<SClientResult> {
  const { stdout, stderr } = await run('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    servername,
    '-status',
    '-CAfile',
    rootCert,
    '-verify_return_error',
  ]);
  const output = stdout + stderr;
  return {
    verified: /Verify return code: 0 \(ok\)/.test(output),
    certStatus: /Cert Status: (\w+)/.exec(output)?.[1] ?? null,
    output,
  };
}

export interface HandshakeResult {
  /** The stapled OCSPResponse, byte for byte, or null. */
  staple: Buffer | null;
  /** Lowercase hex SHA-256 of the certificate the server sent. */
  fingerprint: string;
}

/** One full handshake (no session reuse) asking for a staple. */
export async function handshake(port: number, servername: string, rootCert: string | Buffer): Promise<HandshakeResult> {
  let staple: Buffer | null = null;
  // tls.connect() honours requestOCSP (the status_request extension); @types/node only lists it for TLSSocket.
  const options: tls.ConnectionOptions & { requestOCSP: boolean } = {
    host: '127.0.0.1',
    port,
    servername,
    ca: rootCert,
    requestOCSP: true,
  };
  const socket = tls.connect(options);
  socket.on('OCSPResponse', (response: Buffer | undefined) => {
    staple = response && response.length > 0 ? response : null;
  });
  try {
    await once(socket, 'secureConnect');
    const cert = socket.getPeerX509Certificate();
    if (!cert) throw new Error('no peer certificate');
    return { staple, fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase() };
  } finally {
    socket.destroy();
  }
}
