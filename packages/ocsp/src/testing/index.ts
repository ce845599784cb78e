/**
 * Test fixtures for the tests of packages/ocsp: keys, a PKI, signed OCSP responses, the openssl CLI.
 * Not exported from the package index: import it by relative path from tests only.
 */
export { type TestKey, type TestKeyType, type TestSignatureAlgorithm, generateTestKey, privateKeyPem } from './keys.js';
export { type TestCertificate, type TestCertificateOptions, issueCertificate, toPem } from './certificates.js';
export { type TestPki, type TestPkiOptions, createTestPki } from './pki.js';
export { type TempDir, openssl, tempDir } from './openssl.js';
export { type TestResponseOptions, type TestSingleResponse, buildOcspResponse, buildUnsuccessfulResponse } from './responses.js';
