// Test helpers shared by every package's tests and the end-to-end tests: real services (Redis,
// processes, ports), OpenSSL-made PKIs, private redis-servers. Test-only: nothing here ships.
export * from './services.js';
export * from './openssl-pki.js';
export * from './redis-server.js';
export * from './passworded-redis.js';
export * from './haproxy.js';
