// Throughput on one core, not a test:
//   npx tsc -b packages/ocsp/tsconfig.build.json && taskset -c 1 node packages/ocsp/bench/throughput.js [N]
// Prints responses/s for issuer-signed and delegated responses (P-256, RSA-2048) and certificates/s parsed.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { OcspVerifier, certIdFor, parseCertificates, parseOcspResponse } from '../dist/index.js';
import { buildOcspResponse, createTestPki } from '../dist/testing/index.js';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = 5;
const now = Date.now();

function fixtures(keyType, signer) {
  const pki = createTestPki({ now, keyType });
  const [leaf, issuer] = parseCertificates(`${pki.leaf().pem}${pki.issuer.pem}`);
  const signerCert = signer === 'issuer' ? pki.issuer : pki.responder;
  const cases = [];
  for (let i = 0; i < N; i++) {
    const serial = randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x10;
    const certId = { ...certIdFor(leaf, issuer), serialNumber: serial.toString('hex') };
    const der = buildOcspResponse({
      certId,
      status: 'good',
      thisUpdate: new Date(now - 3_600_000),
      nextUpdate: new Date(now + 7 * 86_400_000),
      signer: { key: signerCert.key, cert: signerCert },
      ...(signer === 'responder' && { certs: [pki.responder] }),
    });
    cases.push({ der, expect: { certId, issuerSpki: issuer.spkiDer.toString('base64'), certNotAfter: leaf.notAfter.getTime() } });
  }
  return cases;
}

function rate(label, cases, fn, unit = 'responses/s') {
  fn(cases[0]); // warm the caches and the JIT on one response
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (const c of cases) fn(c);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, cases.length / seconds);
  }
  const size = Math.round(cases.reduce((sum, c) => sum + c.der.length, 0) / cases.length);
  console.log(`${label.padEnd(44)} ${String(Math.round(best)).padStart(7)} ${unit}  (avg ${size} B, best of ${ROUNDS} x ${cases.length})`);
}

for (const keyType of ['p256', 'rsa2048']) {
  for (const signer of ['issuer', 'responder']) {
    const cases = fixtures(keyType, signer);
    const verifier = new OcspVerifier();
    rate(`${keyType} ${signer === 'issuer' ? 'issuer-signed' : 'delegated'}: verify`, cases, (c) => verifier.verify(c.der, c.expect, now));
    if (keyType === 'p256')
      rate(`${keyType} ${signer === 'issuer' ? 'issuer-signed' : 'delegated'}: parse only`, cases, (c) => parseOcspResponse(c.der));
  }
}

const pki = createTestPki({ now });
const bundles = Array.from({ length: Math.min(N, 500) }, () => {
  const pem = `${pki.leaf({ dnsNames: ['a.example.test', 'b.example.test'], mustStaple: true }).pem}${pki.issuer.pem}`;
  return { der: Buffer.from(pem) };
});
rate('parseCertificates: leaf + issuer PEM bundle', bundles, (b) => parseCertificates(b.der), 'bundles/s  ');
