import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

/** Logs go to stderr as JSON lines (pino); stdout carries the command's own output (summary, JSON). */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { app: 'staplewarm' } }, pino.destination({ fd: 2, sync: false }));
}
