import { describe, expect, it } from 'vitest';
import { assignExportNames, exportNameOf } from './names.js';

const fp = (c: string): string => c.repeat(64);

describe('exportNameOf', () => {
  it('names a certbot lineage by its directory, other files by their base name', () => {
    expect(exportNameOf('/etc/letsencrypt/live/example.com/cert.pem')).toBe('example.com');
    expect(exportNameOf('/etc/letsencrypt/live/example.com/fullchain.pem')).toBe('example.com');
    expect(exportNameOf('/srv/certs/FullChain.crt')).toBe('certs');
    expect(exportNameOf('/etc/ssl/sites/shop.example.org.pem')).toBe('shop.example.org');
    expect(exportNameOf('/etc/ssl/sites/api.crt')).toBe('api');
    expect(exportNameOf('/etc/ssl/sites/noext')).toBe('noext');
  });
});

describe('assignExportNames', () => {
  it('gives a lineage one name for its cert.pem and fullchain.pem, and copies elsewhere their own names', () => {
    const { names, problems } = assignExportNames([
      { fingerprint: fp('a'), paths: ['/le/live/a.test/cert.pem', '/le/live/a.test/fullchain.pem', '/copies/a-copy.pem'] },
      { fingerprint: fp('b'), paths: ['/le/live/b.test/fullchain.pem'] },
    ]);
    expect(problems).toEqual([]);
    expect([...names.keys()].sort()).toEqual(['a-copy', 'a.test', 'b.test']);
    expect(names.get('a.test')).toEqual({ fingerprint: fp('a'), path: '/le/live/a.test/cert.pem' });
  });

  it('exports neither of two certificates that would take one name, and names both files, whatever the order', () => {
    const certs = [
      { fingerprint: fp('a'), paths: ['/customers/one/site.pem'] },
      { fingerprint: fp('b'), paths: ['/customers/two/site.pem'] },
      { fingerprint: fp('c'), paths: ['/customers/two/other.pem'] },
    ];
    const forward = assignExportNames(certs);
    const backward = assignExportNames([...certs].reverse());
    expect([...forward.names.keys()]).toEqual(['other']);
    expect(forward.problems.map((p) => [p.code, p.path])).toEqual([
      ['name-collision', '/customers/one/site.pem'],
      ['name-collision', '/customers/two/site.pem'],
    ]);
    expect(forward.problems[0]?.detail).toContain('/customers/two/site.pem');
    expect(backward).toEqual(forward);
  });

  it('refuses a name that could write nginx configuration or escape the directory', () => {
    const hostile = [
      '/x/a;ssl_ciphers NULL.pem',
      '/x/..pem',
      '/x/a\nb.pem',
      '/x/-rf.pem',
      '/x/$host.pem',
      `/x/${'a'.repeat(201)}.pem`,
      '/x/é.pem',
    ];
    const { names, problems } = assignExportNames(hostile.map((path, i) => ({ fingerprint: fp(String(i)), paths: [path] })));
    expect([...names.keys()]).toEqual([]);
    expect(problems.map((p) => p.code)).toEqual(hostile.map(() => 'bad-name'));
  });
});
