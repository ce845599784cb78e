import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INTERLEAVED_SUBTREES, walkCertificatePaths } from './walk.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-walk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tree of `dirs` directories of `files` certificate files each (contents do not matter to the walk). */
function tree(name: string, dirs: string[], files: number, wrapper?: string): string {
  const root = join(dir, name);
  const base = wrapper ? join(root, wrapper) : root;
  for (const d of dirs) {
    mkdirSync(join(base, d, 'nested'), { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(base, d, i % 2 ? 'nested' : '', `${String(i).padStart(3, '0')}.pem`), 'x');
  }
  return root;
}

function walk(root: string): string[] {
  const seen: string[] = [];
  walkCertificatePaths([root], {
    file: (path) => void seen.push(relative(root, path)),
    problem: (problem) => expect.unreachable(`${problem.path}: ${problem.detail}`),
    keyFileSkipped: () => {},
  });
  return seen;
}

describe('walkCertificatePaths', () => {
  it('takes from the directories of a store grouped by CA in turn, each depth first, every file once', () => {
    const root = tree('by-ca', ['ca1', 'ca2', 'ca3', 'ca4', 'ca5'], 20);
    writeFileSync(join(root, 'loose.pem'), 'x');
    const seen = walk(root);
    expect(seen).toHaveLength(5 * 20 + 1);
    expect(new Set(seen).size).toBe(seen.length);
    // Within its first files, every CA's directory (a depth-first walk gave 20 files of ca1 first).
    const firstCas = new Set(seen.slice(0, 12).map((path) => path.split('/')[0]));
    expect([...firstCas].filter((top) => top?.startsWith('ca'))).toEqual(['ca1', 'ca2', 'ca3', 'ca4', 'ca5']);
    // Each directory's own files still come in path order (a certbot lineage: cert.pem before fullchain.pem).
    for (const ca of ['ca1', 'ca3', 'ca5']) {
      const own = seen.filter((path) => path.startsWith(`${ca}/`));
      expect(own).toEqual([...own].sort());
      expect(own[0]).toBe(`${ca}/000.pem`);
    }
    expect(seen).toContain('loose.pem');
  });

  it('interleaves below a root that holds one directory only (store/live/<ca>/...)', () => {
    const root = tree('wrapped', ['a', 'b', 'c'], 6, 'live');
    const seen = walk(root);
    expect(seen.slice(0, 3).map((path) => path.split('/')[1])).toEqual(['a', 'b', 'c']);
    expect(seen).toHaveLength(18);
  });

  it(`walks at most ${INTERLEAVED_SUBTREES} directories at once and reaches all of them`, () => {
    const names = Array.from({ length: INTERLEAVED_SUBTREES + 8 }, (_, i) => `d${String(i).padStart(3, '0')}`);
    const root = tree('many', names, 2);
    const seen = walk(root);
    expect(seen).toHaveLength(names.length * 2);
    // The first round takes one file from each of the first INTERLEAVED_SUBTREES directories, none from the next.
    const firstRound = new Set(seen.slice(0, INTERLEAVED_SUBTREES).map((path) => path.split('/')[0]));
    expect(firstRound.size).toBe(INTERLEAVED_SUBTREES);
    expect(firstRound.has(names[INTERLEAVED_SUBTREES] as string)).toBe(false);
  });
});
