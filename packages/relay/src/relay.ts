/**
 * The relay's decisions, without HTTP: an OCSP request in, an answer out. Memory first, then Redis
 * (through the CertID index), then, for a known certificate without a staple, one fetch through the
 * shared pipeline and a bounded wait for its result.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeOcspStatusResponse, requestedCertIdToCertId, type CertIdHash, type RequestedCertId } from '@staplewarm/ocsp';
import type { IndexedCertificate, IndexedIssuer } from '@staplewarm/store';
import { MemoryCache, SingleFlight } from './memory-cache.js';
import { missTarget } from './miss-target.js';
import { resolveRelayOptions, type RelayOptions, type ResolvedRelayOptions } from './options.js';
import type { MissFetcher, RelayLogger, RelayObserver, RelayResult, StapleSource } from './ports.js';
import { readRequestForm, type RequestForm } from './request-form.js';
import { matchStaple, type StapleEntry } from './staple-entry.js';

/** What to send back, before HTTP. */
export type RelayAnswer =
  | { kind: 'staple'; entry: StapleEntry; result: 'memory' | 'redis' | 'fetched' }
  | {
      kind: 'ocsp-status';
      status: 'unauthorized' | 'malformedRequest';
      /** The bare OCSPResponse for that status. */
      der: Buffer;
      result: 'unauthorized' | 'other_hash' | 'malformed';
      reason: string;
    }
  | { kind: 'unavailable'; retryAfterSeconds: number; result: 'unavailable' | 'unknown_certificate' | 'error'; reason: string };

/** What the memory keeps per requested CertID: a staple to serve, or why there is none (briefly). */
type Remembered =
  /** `answer`: the memory's answer, made once (a hit allocates nothing). */
  | { kind: 'staple'; entry: StapleEntry; answer: RelayAnswer }
  | { kind: 'unknown-issuer' }
  | { kind: 'unknown-certificate' }
  | { kind: 'other-hash'; storedHash: string };

const UNAUTHORIZED = encodeOcspStatusResponse('unauthorized');
const MALFORMED = encodeOcspStatusResponse('malformedRequest');
/** The longest request form (GET target or POST body) whose reading is remembered. */
const MAX_REMEMBERED_FORM = 1_024;
/** Lookup failures (Redis down) are logged at most this often: every request fails then. */
const ERROR_LOG_INTERVAL_MS = 10_000;
/** Waiting for a fetch polls Redis at these intervals (ms), the last one repeating until the bound. */
const POLL_STEPS_MS = [50, 100, 200, 400, 800];

export interface OcspRelayDeps {
  source: StapleSource;
  fetcher: MissFetcher;
  /** The CertID hash the workers fetch with (`STAPLEWARM_CERTID_HASH`): the only hash a miss can be fetched in. */
  certIdHash: CertIdHash;
  observer?: RelayObserver;
  log?: RelayLogger;
  /** The clock, epoch ms. */
  now?: () => number;
}

export class OcspRelay {
  readonly options: ResolvedRelayOptions;
  private readonly source: StapleSource;
  private readonly fetcher: MissFetcher;
  private readonly certIdHash: CertIdHash;
  private readonly now: () => number;
  private readonly log: RelayLogger | undefined;
  private readonly observer: RelayObserver | undefined;
  private readonly remembered: MemoryCache<Remembered>;
  private readonly issuers: MemoryCache<IndexedIssuer | null>;
  /** Fingerprints this process asked a fetch for, and until when it will not ask again. */
  private readonly asked: MemoryCache<true>;
  private readonly lookups = new SingleFlight<RelayAnswer>();
  /** What each exact request form asks (see `read`). */
  private readonly forms = new Map<string, { requested: IndexedHashCertId; key: string } | RelayAnswer>();
  private readonly closing = new AbortController();
  private readonly warnedHashes = new Set<string>();
  private lastFailureLogAt = -Infinity;
  private failuresUnlogged = 0;

  constructor(deps: OcspRelayDeps, options: RelayOptions = {}) {
    this.options = resolveRelayOptions(options);
    this.source = deps.source;
    this.fetcher = deps.fetcher;
    this.certIdHash = deps.certIdHash;
    this.now = deps.now ?? Date.now;
    this.log = deps.log;
    this.observer = deps.observer;
    this.remembered = new MemoryCache(this.options.memoryEntries);
    this.issuers = new MemoryCache(1_000);
    this.asked = new MemoryCache(this.options.memoryEntries);
  }

  /** Requests waiting for a lookup or a fetch (one per CertID however many clients ask). */
  get lookupsInFlight(): number {
    return this.lookups.size;
  }

  /** Request forms whose reading is remembered. */
  get formsRemembered(): number {
    return this.forms.size;
  }

  /** Answers one request. Never throws: Redis or queue failures become a 503 answer. */
  async answer(form: RequestForm): Promise<RelayAnswer> {
    const read = this.read(form);
    if ('kind' in read) return read;
    const remembered = this.remembered.get(read.key, this.now());
    if (remembered) return this.fromMemory(remembered);
    return this.lookups.run(read.key, () => this.lookUp(read.requested, read.key));
  }

  /**
   * The CertID a request asks about, or the answer that refuses it. Servers send the same few
   * requests over and over (one per certificate, refreshed hourly by every worker), so the result is
   * remembered by the request's exact form: a repeated request costs one Map lookup, not a parse.
   */
  private read(form: RequestForm): { requested: IndexedHashCertId; key: string } | RelayAnswer {
    const formKey = form.method === 'GET' ? `G${form.target}` : `P${form.body.toString('latin1')}`;
    const known = this.forms.get(formKey);
    if (known) return known;
    const read = readCertId(form);
    // Real requests are 100-200 bytes; longer ones are read each time rather than let anyone fill
    // memory with unique 16 KiB paths. Dropping this memo when full is free: it only saves parsing.
    if (formKey.length <= MAX_REMEMBERED_FORM) {
      if (this.forms.size >= this.options.memoryEntries) this.forms.clear();
      this.forms.set(formKey, read);
    }
    return read;
  }

  /** Ends every wait for a fetch at once (their requests get a 503). */
  close(): void {
    this.closing.abort();
  }

  private fromMemory(remembered: Remembered): RelayAnswer {
    switch (remembered.kind) {
      case 'staple':
        return remembered.answer;
      case 'unknown-issuer':
        return unauthorized('unauthorized', 'unknown issuer');
      case 'unknown-certificate':
        return this.unknownCertificate();
      case 'other-hash':
        return unauthorized('other_hash', `the stored response has a ${remembered.storedHash} CertID`);
    }
  }

  private async lookUp(requested: IndexedHashCertId, key: string): Promise<RelayAnswer> {
    try {
      const issuer = await this.issuerOf(requested);
      if (!issuer) {
        this.remember(key, { kind: 'unknown-issuer' }, this.now() + this.options.unknownTtlMs);
        return unauthorized('unauthorized', 'unknown issuer');
      }
      const cert = await this.source.certificate(issuer.id, requested.serialNumber);
      if (!cert) {
        this.remember(key, { kind: 'unknown-certificate' }, this.now() + this.options.unknownTtlMs);
        return this.unknownCertificate();
      }
      const served = this.serveStored(cert, requested, key, 'redis');
      if (served) return served;
      // No usable staple: only the deployment's CertID hash can be fetched (the worker verifies the
      // response against the CertID it asked for and stores it for every reader).
      if (requested.hashAlgorithm !== this.certIdHash) return this.otherHash(key, requested.hashAlgorithm);
      const asked = await this.askForFetch(cert, issuer, requested);
      return await this.waitForStaple(issuer, requested, key, asked);
    } catch (err) {
      this.logFailure(err);
      return { kind: 'unavailable', retryAfterSeconds: this.options.retryAfterSeconds, result: 'error', reason: 'lookup failed' };
    }
  }

  /** The answer from a stored staple when it answers this CertID, else undefined (a miss), or other_hash. */
  private serveStored(
    cert: IndexedCertificate,
    requested: RequestedCertId,
    key: string,
    result: 'redis' | 'fetched',
  ): RelayAnswer | undefined {
    if (!cert.staple) return undefined;
    const now = this.now();
    const match = matchStaple(cert.staple, requested, cert.stapleExpiresInMs, now);
    switch (match.kind) {
      case 'match':
        this.remember(
          key,
          { kind: 'staple', entry: match.entry, answer: { kind: 'staple', entry: match.entry, result: 'memory' } },
          Math.min(match.entry.expiresAt, now + this.options.memoryTtlMs),
        );
        return { kind: 'staple', entry: match.entry, result };
      case 'other-hash':
        // In the deployment's hash a fetch replaces it; in the other one there is nothing to fetch.
        return requested.hashAlgorithm === this.certIdHash ? undefined : this.otherHash(key, match.storedHash);
      case 'mismatch':
      case 'unusable':
        return undefined;
    }
  }

  private otherHash(key: string, storedHash: string): RelayAnswer {
    if (!this.warnedHashes.has(storedHash)) {
      this.warnedHashes.add(storedHash);
      this.log?.warn(
        { fetchedWith: this.certIdHash },
        `relay: a client asks with a CertID hash staplewarm does not fetch (it fetches ${this.certIdHash}, STAPLEWARM_CERTID_HASH): answered unauthorized (logged once)`,
      );
    }
    this.remember(key, { kind: 'other-hash', storedHash }, this.now() + this.options.unknownTtlMs);
    return unauthorized('other_hash', `staples are fetched with ${this.certIdHash} CertIDs`);
  }

  private unknownCertificate(): RelayAnswer {
    return {
      kind: 'unavailable',
      retryAfterSeconds: this.options.unknownRetryAfterSeconds,
      result: 'unknown_certificate',
      reason: 'the issuer is known, this certificate is not (yet)',
    };
  }

  private async issuerOf(requested: IndexedHashCertId): Promise<IndexedIssuer | null> {
    const key = `${requested.hashAlgorithm}:${requested.issuerNameHash}:${requested.issuerKeyHash}`;
    const now = this.now();
    const known = this.issuers.get(key, now);
    if (known !== undefined) return known;
    const issuer = await this.source.issuer(requested.hashAlgorithm, requested.issuerNameHash, requested.issuerKeyHash);
    this.issuers.set(key, issuer, now + (issuer ? this.options.issuerTtlMs : this.options.unknownTtlMs), now);
    return issuer;
  }

  /** Queues one fetch for the certificate unless this process asked lately; false when none could be built. */
  private async askForFetch(cert: IndexedCertificate, issuer: IndexedIssuer, requested: RequestedCertId): Promise<boolean> {
    const certId = requestedCertIdToCertId(requested);
    if (!certId) return false;
    const now = this.now();
    if (this.asked.get(cert.fingerprint, now)) return true;
    const built = missTarget(cert, issuer, certId);
    if (!built.ok) return false;
    await this.fetcher.request(built.target);
    this.asked.set(cert.fingerprint, true, now + this.options.refetchAfterMs, now);
    this.observer?.fetchRequested();
    return true;
  }

  /**
   * Polls Redis until the staple answers the request, `missWaitMs` at most. The bound is elapsed
   * time on the monotonic clock (it is how long a client waits), not the injected wall clock that
   * decides expiries.
   */
  private async waitForStaple(issuer: IndexedIssuer, requested: RequestedCertId, key: string, asked: boolean): Promise<RelayAnswer> {
    const deadline = performance.now() + this.options.missWaitMs;
    for (let step = 0; !this.closing.signal.aborted; step++) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const pause = Math.min(POLL_STEPS_MS[Math.min(step, POLL_STEPS_MS.length - 1)] ?? 800, left);
      try {
        await sleep(pause, undefined, { signal: this.closing.signal });
      } catch {
        break; // closing
      }
      const cert = await this.source.certificate(issuer.id, requested.serialNumber);
      const served = cert ? this.serveStored(cert, requested, key, 'fetched') : undefined;
      if (served) return served;
    }
    return {
      kind: 'unavailable',
      retryAfterSeconds: this.options.retryAfterSeconds,
      result: 'unavailable',
      reason: asked ? 'no staple yet: a fetch is queued' : 'no staple yet: the first fetch is queued',
    };
  }

  /** The first failure, then at most one line per ERROR_LOG_INTERVAL_MS with how many it stands for. */
  private logFailure(err: unknown): void {
    const now = performance.now();
    this.failuresUnlogged++;
    if (now - this.lastFailureLogAt < ERROR_LOG_INTERVAL_MS) return;
    this.log?.error({ err, failures: this.failuresUnlogged }, 'relay: lookup failed (answered 503)');
    this.failuresUnlogged = 0;
    this.lastFailureLogAt = now;
  }

  private remember(key: string, value: Remembered, until: number): void {
    this.remembered.set(key, value, until, this.now());
  }
}

/** The CertID of the one Request in `form`, or the answer refusing it. */
function readCertId(form: RequestForm): { requested: IndexedHashCertId; key: string } | RelayAnswer {
  const reading = readRequestForm(form);
  if (!reading.ok) return malformed(reading.reason);
  const [requested, ...more] = reading.request.certIds;
  // RFC 5019 2.1.1: one Request per OCSPRequest; answering only the first would look like an answer for all.
  if (!requested || more.length > 0) return malformed(`${reading.request.certIds.length} CertIDs in one request (one is allowed)`);
  if (!hasIndexedHash(requested)) {
    return unauthorized('unauthorized', `CertID hash ${requested.hashAlgorithmOid} is neither SHA-1 nor SHA-256`);
  }
  return { requested, key: certIdKey(requested) };
}

/** A requested CertID in a hash the index knows (sha1 or sha256). */
type IndexedHashCertId = RequestedCertId & { hashAlgorithm: CertIdHash };

function hasIndexedHash(id: RequestedCertId): id is IndexedHashCertId {
  return id.hashAlgorithm !== undefined;
}

/** The cache key of a requested CertID: hash algorithm, both hashes and the serial (RFC 6960 CertID equality). */
export function certIdKey(id: RequestedCertId): string {
  return `${id.hashAlgorithm ?? id.hashAlgorithmOid}:${id.issuerNameHash}:${id.issuerKeyHash}:${id.serialNumber}`;
}

function unauthorized(result: 'unauthorized' | 'other_hash', reason: string): RelayAnswer {
  return { kind: 'ocsp-status', status: 'unauthorized', der: UNAUTHORIZED, result, reason };
}

function malformed(reason: string): RelayAnswer {
  return { kind: 'ocsp-status', status: 'malformedRequest', der: MALFORMED, result: 'malformed', reason };
}

export type { RelayResult };
