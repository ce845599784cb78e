/**
 * Stable error codes of packages/store. None of them is about Redis being down (ioredis reports that
 * with its own errors); they are misuse or a contract breach.
 * - `not-stapleable`: `write` was given a staple whose status is not good or revoked.
 * - `key-prefix-unsupported`: the ioredis client has a `keyPrefix`; the scripts build keys from the
 *   contract prefix themselves, so use the `prefix` option instead.
 * - `unexpected-reply`: a script answered something outside the contract (a script/version mix-up).
 */
export type StoreErrorCode = 'not-stapleable' | 'key-prefix-unsupported' | 'unexpected-reply';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
