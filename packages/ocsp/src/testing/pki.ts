/** A small test PKI: root CA -> issuing CA -> (delegated OCSP signer, leaves). */
import { type TestCertificate, type TestCertificateOptions, issueCertificate } from './certificates.js';
import type { TestKeyType } from './keys.js';

const DAY = 86_400_000;

export interface TestPki {
  root: TestCertificate;
  /** Issues the leaves and signs OCSP responses (or delegates to `responder`). */
  issuer: TestCertificate;
  /** Delegated responder: issued by `issuer`, EKU id-kp-OCSPSigning. */
  responder: TestCertificate;
  /** A leaf of `issuer`: valid `now - 1 day .. now + 90 days`, SAN `www.example.test`, one OCSP URL. */
  leaf(overrides?: Partial<TestCertificateOptions>): TestCertificate;
}

export interface TestPkiOptions {
  /** Epoch ms the validity periods are centred on. */
  now: number;
  keyType?: TestKeyType;
  /** The responder certificate's notAfter. @defaultValue now + 30 days */
  responderNotAfter?: Date;
}

export function createTestPki({ now, keyType = 'p256', responderNotAfter }: TestPkiOptions): TestPki {
  const notBefore = new Date(now - DAY);
  const root = issueCertificate({
    subject: { O: 'Staplewarm Test', CN: 'Staplewarm Test Root' },
    keyType,
    isCA: true,
    notBefore,
    notAfter: new Date(now + 3650 * DAY),
  });
  const issuer = issueCertificate({
    subject: { O: 'Staplewarm Test', CN: 'Staplewarm Test Issuing CA' },
    issuer: root,
    keyType,
    isCA: true,
    notBefore,
    notAfter: new Date(now + 1825 * DAY),
  });
  const responder = issueCertificate({
    subject: { O: 'Staplewarm Test', CN: 'Staplewarm Test OCSP Responder' },
    issuer,
    keyType,
    ocspSigning: true,
    notBefore,
    notAfter: responderNotAfter ?? new Date(now + 30 * DAY),
  });
  const leaf = (overrides: Partial<TestCertificateOptions> = {}): TestCertificate =>
    issueCertificate({
      subject: { CN: 'www.example.test' },
      issuer,
      keyType,
      dnsNames: ['www.example.test'],
      ocspUrls: ['http://ocsp.example.test'],
      notBefore,
      notAfter: new Date(now + 90 * DAY),
      ...overrides,
    });
  return { root, issuer, responder, leaf };
}
