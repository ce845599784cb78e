// How fast this machine is, measured the same way at the start of every run. VMs of the same kind
// ran the same benchmarks 2-3x apart (docs/benchmarks.md, 2026-11-29): a run's figures are only
// comparable with another's when both say what speed they had.
import { Buffer } from 'node:buffer';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Calls `step` in rounds of `batch` for about `ms` milliseconds; returns calls per second. */
function rate(step, { ms, batch }) {
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) step();
    calls += batch;
    elapsed = performance.now() - started;
  }
  return calls / (elapsed / 1000);
}

/**
 * One core's speed at two things the benchmarks spend their time on: ECDSA P-256 verification with
 * node:crypto (each OCSP response, and `openssl ocsp`'s own work), and system calls (a `stat`: each
 * socket write and file read is one; on some VMs they cost several times more than on others).
 */
export function machineSpeed({ ms = 500 } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.alloc(512, 0x5a);
  const signature = sign('sha256', data, privateKey);
  const verifications = rate(() => verify('sha256', data, publicKey, signature), { ms, batch: 20 });
  const stats = rate(() => statSync('/'), { ms, batch: 200 });
  return { p256VerificationsPerSecond: Math.round(verifications), statCallsPerSecond: Math.round(stats) };
}
