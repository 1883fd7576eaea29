import { LRUCache } from 'lru-cache';
import type { RateLimitConfig } from './schema.js';

/** A token bucket's state: tokens left at instant `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

export interface BucketRate {
  /** Tokens added per second. */
  requests_per_sec: number;
  /** Bucket size. */
  burst: number;
}

/**
 * Takes one token from `b` at `now` (refilling it first at `rate`). Returns 0 when the request
 * may go ahead, else the milliseconds until a token is available.
 */
export function take(b: Bucket, rate: BucketRate, now: number): number {
  if (refill(b, rate, now)) {
    b.tokens = Math.max(0, b.tokens - 1);
    return 0;
  }
  return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate.requests_per_sec - EPSILON));
}

const EPSILON = 1e-9;

/** Refills `b` at `rate` up to `now`; whether it holds a token. */
function refill(b: Bucket, rate: BucketRate, now: number): boolean {
  const elapsed = Math.max(0, now - b.at);
  b.tokens = Math.min(rate.burst, b.tokens + (elapsed * rate.requests_per_sec) / 1000);
  b.at = now;
  // refills accumulate float noise (0.95 + 0.05 = 0.99999…): within EPSILON of a token is a token
  return b.tokens >= 1 - EPSILON;
}

/**
 * Per-address and per-key token buckets: a flood from one key or address is answered 429
 * while the others go on. Addresses live in an LRU table of at most
 * `max_addresses` entries, so a flood from many addresses costs bounded memory (an address
 * dropped from the table comes back with a full bucket). Keys are the configured ones: their
 * table is bounded by the configuration. Time comes from `now` (ms), injected for tests.
 */
export class RateLimiter {
  private readonly addresses: LRUCache<string, Bucket>;
  private readonly keys = new Map<string, Bucket>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly keyRates: ReadonlyMap<string, BucketRate>,
    private readonly now: () => number,
  ) {
    this.addresses = new LRUCache({ max: config.max_addresses });
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Addresses currently tracked (for tests and metrics). */
  get trackedAddresses(): number {
    return this.addresses.size;
  }

  /** 0 when a request from `address` may go ahead, else the ms to wait. */
  takeAddress(address: string): number {
    return this.takeFrom(this.addresses, address, this.config.per_address);
  }

  /** 0 when a request with key `keyId` may go ahead, else the ms to wait. */
  takeKey(keyId: string): number {
    return this.takeFrom(this.keys, keyId, this.keyRates.get(keyId) ?? this.config.per_key);
  }

  /**
   * Takes a token from `address`'s bucket and from `keyId`'s together, or from neither (false):
   * a caller that will fall back to `takeAddress`/`takeKey` when refused is never charged twice.
   */
  takeBoth(address: string, keyId: string): boolean {
    if (!this.config.enabled) return true;
    const now = this.now();
    const keyRate = this.keyRates.get(keyId) ?? this.config.per_key;
    const a = this.bucket(this.addresses, address, this.config.per_address, now);
    const k = this.bucket(this.keys, keyId, keyRate, now);
    if (!refill(a, this.config.per_address, now) || !refill(k, keyRate, now)) return false;
    a.tokens = Math.max(0, a.tokens - 1);
    k.tokens = Math.max(0, k.tokens - 1);
    return true;
  }

  private bucket(
    table: { get(id: string): Bucket | undefined; set(id: string, b: Bucket): unknown },
    id: string,
    rate: BucketRate,
    now: number,
  ): Bucket {
    let b = table.get(id);
    if (!b) {
      b = { tokens: rate.burst, at: now };
      table.set(id, b);
    }
    return b;
  }

  private takeFrom(
    table: { get(id: string): Bucket | undefined; set(id: string, b: Bucket): unknown },
    id: string,
    rate: BucketRate,
  ): number {
    if (!this.config.enabled) return 0;
    const now = this.now();
    return take(this.bucket(table, id, rate, now), rate, now);
  }
}

/** Retry-After in whole seconds (at least 1) for a wait in ms. */
export function retryAfterSecs(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
