import { readFileSync } from 'node:fs';

/**
 * staplewarm's release: the `version` of this app's package.json, the one place it is written
 * (`--version`, the User-Agent of OCSP requests). Read beside the code, from src/ or dist/ alike:
 * one small file, no JSON module loader on the start-up path.
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** The User-Agent of every OCSP request staplewarm sends. */
export const USER_AGENT = `staplewarm/${VERSION}`;
