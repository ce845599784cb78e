export const USAGE = `usage:
  responder-sim generate --dir D --count N [--url U]... [--revoked 2,5] [--revoked-every N]
                         [--no-ocsp-every N] [--must-staple-every N] [--key-type ec|rsa]
                         [--validity-days N] [--no-delegated-signer]
  responder-sim serve --dir D [--port P] [--host H] [--rate R] [--burst B] [--latency-ms L]
                      [--retry-after S | --no-retry-after] [--signer delegated|issuer]
                      [--validity-hours H] [--faults JSON] [--presign] [--presign-sha256]

generate  writes a test PKI to D: ca/, live/<name>/ (certbot layout), index.txt, manifest.json.
          --url defaults to http://127.0.0.1:8888/ (serve's default port).
serve     answers OCSP for the PKI in D over GET and POST; prints its URL on the first line;
          stops on SIGINT/SIGTERM. Control: GET /_sim/stats, POST /_sim/faults (JSON).
          --faults example: '{"http5xx":0.1,"hang":{"every":50}}'
          --presign signs every leaf's SHA-1 CertID response before listening (--presign-sha256:
          SHA-256 CertIDs too), so first requests are cache hits (benchmarks).
`;
