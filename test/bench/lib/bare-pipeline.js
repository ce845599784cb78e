#!/usr/bin/env node
/**
 * The bare pipeline: the least work any tool must do to warm a certbot live/ tree, as one process,
 * to compare staplewarm with on the same machine (benchmark (c), "bare pipeline"). Per certificate:
 * read cert.pem (and chain.pem, once per distinct issuer file), parse the leaf, build the RFC 5019
 * request, GET it (128 at once, keep-alive), verify the answer fully (@staplewarm/ocsp, the same
 * verifier staplewarm uses), SET it in Redis (auto-pipelined). Nothing else: no queue, no retries,
 * no last-known-good rules, no metrics, no progress, no scan thread, and it handles only the happy
 * path (a failure is counted, not retried). Its figures are a ceiling for this machine, not a peer
 * a user could run instead.
 *
 *   node test/bench/lib/bare-pipeline.js --certs <live/> --redis <url> --prefix <p> [--concurrency 128]
 *
 * Prints one JSON line: { certificates, stored, failed, scanMs, elapsedMs }.
 */
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildTarget, OcspVerifier, ocspGetUrl, parseCertificates } from '@staplewarm/ocsp';
import { Redis } from 'ioredis';
import { Pool } from 'undici';

const started = performance.now();
const { values } = parseArgs({
  options: {
    certs: { type: 'string' },
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'bare:' },
    concurrency: { type: 'string', default: '128' },
  },
});
if (!values.certs || !values.redis) throw new Error('usage: bare-pipeline.js --certs <live/> --redis <url> [--prefix p] [--concurrency n]');
const concurrency = Number(values.concurrency);
const redis = new Redis(values.redis, { enableAutoPipelining: true });
const verifier = new OcspVerifier();
const pools = new Map();
const issuers = new Map();

// Lineages are read as the lanes ask for them: reading overlaps fetching, on one thread.
const lineages = readdirSync(values.certs);
let next = 0;
let scanMs = 0;
function nextTarget() {
  while (next < lineages.length) {
    const t0 = performance.now();
    const dir = join(values.certs, lineages[next++]);
    try {
      const [leaf] = parseCertificates(readFileSync(join(dir, 'cert.pem'), 'latin1'), dir);
      const chain = readFileSync(join(dir, 'chain.pem'), 'latin1');
      let issuer = issuers.get(chain);
      if (!issuer) issuers.set(chain, (issuer = parseCertificates(chain, dir)[0]));
      return buildTarget(leaf, issuer);
    } catch {
      failed++;
    } finally {
      scanMs += performance.now() - t0;
    }
  }
  return undefined;
}

let stored = 0;
let failed = 0;
async function lane() {
  for (let target = nextTarget(); target; target = nextTarget()) {
    try {
      const url = new URL(ocspGetUrl(target.ocspUrls[0], Buffer.from(target.request, 'base64')));
      let pool = pools.get(url.origin);
      if (!pool) pools.set(url.origin, (pool = new Pool(url.origin, { connections: concurrency })));
      const res = await pool.request({ path: url.pathname, method: 'GET' });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      const staple = verifier.verify(
        body,
        { certId: target.certId, issuerSpki: target.issuerSpki, certNotAfter: target.certNotAfter },
        Date.now(),
      );
      await redis.set(`${values.prefix}staple:${target.fingerprint}`, staple.der, 'PXAT', staple.expiresAt.getTime());
      stored++;
    } catch {
      failed++;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, lane));
await Promise.all([...pools.values()].map((pool) => pool.close()));
redis.disconnect();
process.stdout.write(
  `${JSON.stringify({ certificates: lineages.length, stored, failed, scanMs, elapsedMs: performance.now() - started })}\n`,
);
