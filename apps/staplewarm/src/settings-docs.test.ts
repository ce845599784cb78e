/**
 * The settings as users read them: the README's configuration table and every command's `--help`,
 * checked against SETTINGS (config.ts) and against what loadConfig really returns. The expected
 * values come from the README's text, not from config.ts, so a default changed in one place only
 * fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS, type Config } from './config.js';

type Key = keyof Config;

interface Row {
  line: string;
  flag: string | undefined;
  env: string;
  /** The default as written, e.g. `500`, `none`, `1048576` (without a trailing remark in parentheses). */
  shown: string;
}

/** The rows of the first table under `## Configuration` in the repository's README. */
function readmeRows(): Row[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const table = section.split('\n').filter((line) => line.startsWith('|'));
  expect(table[0], 'the table header').toMatch(/^\| *setting *\| *flag *\| *env *\| *default *\|$/);
  return table.slice(2).map((line) => {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1);
    expect(cells, line).toHaveLength(4);
    const [, flagCell = '', envCell = '', defaultCell = ''] = cells.map((cell) => cell.trim());
    const codes = (cell: string) => [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1] ?? '');
    const flags = codes(flagCell).flatMap((code) => code.match(/^--[a-z][a-z-]*/) ?? []);
    const envs = codes(envCell);
    expect(flags.length, `at most one flag per row: ${line}`).toBeLessThanOrEqual(1);
    expect(envs, `one environment variable per row: ${line}`).toHaveLength(1);
    const shown = /^`([^`]*)`/.exec(defaultCell)?.[1] ?? defaultCell.replace(/ \(.*\)$/, '');
    return { line, flag: flags[0], env: envs[0] ?? '', shown };
  });
}

/** The long flag of a setting (`--redis-password-file`), or undefined when it has none. */
const longFlag = (key: Key): string | undefined => SETTINGS[key].flag?.split(' ')[0];

/** The setting's default, as a user reads it in the README or in `--help`, turned into a value. */
function valueOf(key: Key, shown: string): unknown {
  const text = shown.replace(/ \(.*\)$/, '');
  if (text !== 'none') return SETTINGS[key].parse(text, 'shown default');
  // "none": no value, an empty list or an empty map, whichever the setting holds.
  const value = SETTINGS[key].default;
  if (
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && Object.keys(value).length === 0)
  ) {
    return value;
  }
  return Symbol(`"none" for ${key}, whose default is ${JSON.stringify(value)}`);
}

const keys = Object.keys(SETTINGS) as Key[];

describe('the README configuration table', () => {
  const rows = readmeRows();
  const keyOfEnv = new Map(keys.map((key) => [SETTINGS[key].env, key]));

  it('documents every setting once', () => {
    const documented = rows.map((row) => row.env);
    const missing = keys.filter((key) => !documented.includes(SETTINGS[key].env ?? ''));
    expect(missing, 'settings without a README row').toEqual([]);
    expect(new Set(documented).size, 'one row per setting').toBe(documented.length);
  });

  it.each(rows.map((row) => [row.env, row]))('%s: the row names a real setting, its flag and its default', (_, row) => {
    const key = keyOfEnv.get(row.env);
    expect(key, `no setting reads ${row.env}: ${row.line}`).toBeDefined();
    if (!key) return;
    expect(row.flag, row.line).toBe(longFlag(key));
    // What loadConfig returns when nothing is given, against the README's words.
    expect(loadConfig({}, {})[key], row.line).toEqual(valueOf(key, row.shown));
  });
});

/** staplewarm's commands, registered as main.ts does: every `register*` export of commands/. */
async function program(): Promise<Command> {
  const program = new Command('staplewarm');
  const files = readdirSync(new URL('./commands/', import.meta.url)).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  for (const file of files) {
    const module = (await import(/* @vite-ignore */ new URL(`./commands/${file}`, import.meta.url).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (/^register[A-Z]/.test(name) && typeof value === 'function') (value as (program: Command) => void)(program);
    }
  }
  return program;
}

/** Options whose help deliberately shows another default than the setting's, and what it says instead. */
const OWN_DEFAULTS: Record<string, RegExp> = {
  // warm serves /metrics only when asked: a worker on the same host may hold the default port.
  'warm --metrics-port': /off unless given/,
};

describe('--help of every command', async () => {
  const commands = (await program()).commands;

  it('finds the commands', () => {
    expect(commands.map((command) => command.name())).toEqual(expect.arrayContaining(['warm', 'worker', 'serve', 'get', 'status', 'demo']));
  });

  it('offers every setting that has a flag in some command', () => {
    const offered = new Set(commands.flatMap((command) => command.options.map((option) => option.long)));
    expect(keys.filter((key) => longFlag(key) !== undefined && !offered.has(longFlag(key)))).toEqual([]);
  });

  const cases = commands.flatMap((command) =>
    command.options.flatMap((option: Option) => {
      const key = keys.find((k) => longFlag(k) !== undefined && longFlag(k) === option.long);
      return key ? [[`${command.name()} ${option.long}`, command, option, key] as const] : [];
    }),
  );

  it.each(cases)("%s shows the setting's environment variable and default", (name, command, option, key) => {
    const help = command.createHelp();
    const description = help.optionDescription(option);
    // What `staplewarm <command> --help` prints, wrapped lines joined.
    const shown = command.helpInformation().replace(/\s+/g, ' ');
    expect(shown).toContain(`${help.optionTerm(option)} ${description.replace(/\s+/g, ' ')}`);

    const own = OWN_DEFAULTS[name];
    if (own) {
      expect(description).toMatch(own);
      expect(description).not.toMatch(/default \d/);
      return;
    }
    const suffix = /\[env (\S+), default (.+)\]$/.exec(description);
    expect(suffix, description).not.toBeNull();
    expect(suffix?.[1]).toBe(SETTINGS[key].env);
    expect(loadConfig({}, {})[key], description).toEqual(valueOf(key, suffix?.[2] ?? ''));
  });
});
