import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

/** A non-TTY stream that keeps what is written (logs, CI). */
function captured(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const stream = { isTTY: false, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => text.trim().split('\n') };
}

describe('createProgress without a terminal', () => {
  it('shows a growing total while the scan runs, and the end once it is over', () => {
    const { stream, lines } = captured();
    const progress = createProgress(stream, 0);
    progress.start();
    progress.setTotal(500);
    progress.update(500, 0); // caught up with the scan: not the end
    progress.setTotal(800);
    progress.scanned();
    progress.update(799, 1);
    progress.update(800, 1);
    expect(lines()[0]).toMatch(/^warm: scanning/);
    expect(lines()[1]).toMatch(/^warm: 500\/500\+ done, 0 failed/);
    expect(lines()[2]).toBe('warm: scan finished, 800 staples to fetch');
    expect(lines()[3]).toMatch(/^warm: 799\/800 done, 1 failed/);
    expect(lines()[4]).toMatch(/^warm: 800\/800 done, 1 failed/);
  });

  it('writes at most one line per interval until the last certificate', () => {
    const { stream, lines } = captured();
    const progress = createProgress(stream, 60_000);
    progress.start();
    progress.setTotal(3);
    progress.scanned();
    progress.update(1, 0);
    progress.update(2, 0);
    progress.update(3, 0);
    expect(lines()).toHaveLength(3); // start, scan finished, 3/3
    expect(lines()[2]).toMatch(/^warm: 3\/3 done/);
  });
});
