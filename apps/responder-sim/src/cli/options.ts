/** Turns CLI flag strings into typed options; every malformed value is a SimError `bad-option`. */
import { SimError } from '../errors.js';

export function integer(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new SimError('bad-option', `--${flag} expects an integer >= ${min}, got "${value}"`);
  return n;
}

export function decimal(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new SimError('bad-option', `--${flag} expects a number >= ${min}, got "${value}"`);
  return n;
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new SimError('bad-option', `--${flag} expects one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** `--revoked 2,5,9`: 1-based leaf numbers. */
export function leafNumbers(flag: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => integer(flag, part.trim(), 1) ?? 0);
}

export function json(flag: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (cause) {
    throw new SimError('bad-option', `--${flag} expects JSON, got "${value}"`, { cause });
  }
}
