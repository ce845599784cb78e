/**
 * The simulated CA hierarchy: a self-signed root, an issuing CA (the one leaves and OCSP CertIDs
 * name), and a delegated OCSP responder certificate issued by the issuing CA (RFC 6960 4.2.2.2).
 */
import { randomBytes } from 'node:crypto';
import { issueCertificate } from './certificate.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  extKeyUsage,
  keyUsage,
  KeyUsageBit,
  ocspNoCheck,
  subjectKeyIdentifier,
} from './extensions.js';
import { generateSigningKey, type KeyType, type SigningKey } from './keys.js';
import { OID } from '../der/oids.js';

const DAY_MS = 86_400_000;
const ORGANIZATION = 'staplewarm-sim';

const named = (commonName: string): { subjectName: Buffer; subject: string } => ({
  subjectName: distinguishedName({ O: ORGANIZATION, CN: commonName }),
  subject: `O=${ORGANIZATION}, CN=${commonName}`,
});

/** A certificate with its private key and encoded subject Name. */
export interface Credential {
  key: SigningKey;
  der: Buffer;
  subjectName: Buffer;
  /** Human-readable subject, e.g. `O=staplewarm-sim, CN=Staplewarm Sim Root CA 1a2b3c`. */
  subject: string;
  serial: Buffer;
}

export interface Authority {
  root: Credential;
  issuer: Credential;
  /** Delegated responder (EKU id-kp-OCSPSigning), when requested. */
  signer: Credential | undefined;
}

/** A positive serial: random, top bit clear and first byte non-zero so its DER content is exactly these bytes. */
export function randomSerial(length = 16): Buffer {
  const serial = randomBytes(length);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

/** Builds root, issuer and (optionally) delegated signer. `label` tells PKIs apart in subject names. */
export function createAuthority(opts: { keyType: KeyType; delegatedSigner: boolean; now: Date; label: string }): Authority {
  const { keyType, now, label } = opts;
  const notBefore = new Date(now.getTime() - DAY_MS);

  const rootKey = generateSigningKey(keyType);
  const rootNamed = named(`Staplewarm Sim Root CA ${label}`);
  const rootName = rootNamed.subjectName;
  const rootSerial = randomSerial();
  const root: Credential = {
    key: rootKey,
    ...rootNamed,
    serial: rootSerial,
    der: issueCertificate(
      {
        serial: rootSerial,
        issuerName: rootName,
        subjectName: rootName,
        notBefore,
        notAfter: new Date(now.getTime() + 3650 * DAY_MS),
        spkiDer: rootKey.spkiDer,
        extensions: [basicConstraints(true), keyUsage([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]), subjectKeyIdentifier(rootKey.keyId)],
      },
      rootKey,
    ),
  };

  const issuerKey = generateSigningKey(keyType);
  const issuerNamed = named(`Staplewarm Sim Issuing CA ${label}`);
  const issuerName = issuerNamed.subjectName;
  const issuerSerial = randomSerial();
  const issuer: Credential = {
    key: issuerKey,
    ...issuerNamed,
    serial: issuerSerial,
    der: issueCertificate(
      {
        serial: issuerSerial,
        issuerName: rootName,
        subjectName: issuerName,
        notBefore,
        notAfter: new Date(now.getTime() + 1825 * DAY_MS),
        spkiDer: issuerKey.spkiDer,
        extensions: [
          basicConstraints(true, 0),
          keyUsage([KeyUsageBit.digitalSignature, KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
          subjectKeyIdentifier(issuerKey.keyId),
          authorityKeyIdentifier(rootKey.keyId),
        ],
      },
      rootKey,
    ),
  };

  return { root, issuer, signer: opts.delegatedSigner ? issueResponderCertificate(issuer, now, label) : undefined };
}

/**
 * An OCSP responder certificate issued by `issuer` (EKU OCSPSigning, id-pkix-ocsp-nocheck).
 * Also used with a throw-away issuer to make the `wrongSigner` fault's key.
 */
export function issueResponderCertificate(issuer: Credential, now: Date, label: string): Credential {
  const key = generateSigningKey(issuer.key.type);
  const { subjectName, subject } = named(`Staplewarm Sim OCSP Responder ${label}`);
  const serial = randomSerial();
  return {
    key,
    subjectName,
    subject,
    serial,
    der: issueCertificate(
      {
        serial,
        issuerName: issuer.subjectName,
        subjectName,
        notBefore: new Date(now.getTime() - DAY_MS),
        notAfter: new Date(now.getTime() + 365 * DAY_MS),
        spkiDer: key.spkiDer,
        extensions: [
          basicConstraints(false),
          keyUsage([KeyUsageBit.digitalSignature]),
          extKeyUsage([OID.ocspSigning]),
          ocspNoCheck(),
          subjectKeyIdentifier(key.keyId),
          authorityKeyIdentifier(issuer.key.keyId),
        ],
      },
      issuer.key,
    ),
  };
}
