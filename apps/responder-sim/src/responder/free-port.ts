import { createServer } from 'node:net';

/**
 * A port that was free a moment ago: for callers that must put the responder's URL into the
 * certificates before starting it (generatePki, then startResponder on that port). Racy by nature;
 * fine on a test machine.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
