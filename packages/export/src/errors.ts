/** Typed errors and per-certificate problems of the exporters. */

export type ExportErrorCode =
  /** The export directory is unusable (missing, not a directory, or a path nginx could not quote). */
  | 'bad-dir'
  /** A file could not be written or renamed into place. */
  | 'write-failed'
  /** The reload command failed (non-zero exit, signal, timeout). */
  | 'reload-failed';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isExportError(err: unknown): err is ExportError {
  return err instanceof ExportError;
}

export type ExportProblemCode =
  /** The name derived from the file is not a safe file name (it becomes a file and a line of nginx config). */
  | 'bad-name'
  /** Two different certificates would be exported under one name: neither is, until one is renamed. */
  | 'name-collision'
  /** A certificate file HAProxy loads could not be read, or holds no certificate. */
  | 'unreadable-certificate';

/** A certificate that cannot be exported, and why: one problem never stops the others. */
export interface ExportProblem {
  code: ExportProblemCode;
  /** The certificate file concerned. */
  path: string;
  detail: string;
}
