/** Leaf (TLS server) certificates: the part generated 50,000 times, so constant extensions are encoded once. */
import { issueCertificate } from './certificate.js';
import type { Credential } from './authority.js';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  extKeyUsage,
  keyUsage,
  KeyUsageBit,
  mustStaple,
  subjectAltNames,
} from './extensions.js';
import type { SigningKey } from './keys.js';
import { OID } from '../der/oids.js';

/** What varies from one leaf to the next. */
export interface LeafPlan {
  /** 1-based leaf number, as in the name `site00001.example.test`. */
  index: number;
  name: string;
  serial: Buffer;
  /** AIA lists the OCSP URL(s); false models certificates without OCSP (e.g. short-lived ones). */
  ocsp: boolean;
  mustStaple: boolean;
}

export interface LeafProfile {
  issuer: Credential;
  /** One key pair shared by every leaf: generating 50,000 keys would dominate the run time. */
  leafKey: SigningKey;
  ocspUrls: readonly string[];
  caIssuersUrl: string | undefined;
  notBefore: Date;
  notAfter: Date;
}

/** Returns a function issuing one leaf's DER per plan. */
export function leafIssuer(profile: LeafProfile): (plan: LeafPlan) => Buffer {
  const usage =
    profile.leafKey.type === 'ec' ? [KeyUsageBit.digitalSignature] : [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment];
  const common = [
    basicConstraints(false),
    keyUsage(usage),
    extKeyUsage([OID.serverAuth]),
    authorityKeyIdentifier(profile.issuer.key.keyId),
  ];
  const withOcsp = authorityInfoAccess(profile.ocspUrls, profile.caIssuersUrl);
  const withoutOcsp = profile.caIssuersUrl === undefined ? undefined : authorityInfoAccess([], profile.caIssuersUrl);
  const staple = mustStaple();

  return (plan) => {
    const aia = plan.ocsp ? withOcsp : withoutOcsp;
    const extensions = [...common, subjectAltNames([plan.name, `www.${plan.name}`])];
    if (aia) extensions.push(aia);
    if (plan.mustStaple) extensions.push(staple);
    return issueCertificate(
      {
        serial: plan.serial,
        issuerName: profile.issuer.subjectName,
        subjectName: distinguishedName({ CN: plan.name }),
        notBefore: profile.notBefore,
        notAfter: profile.notAfter,
        spkiDer: profile.leafKey.spkiDer,
        extensions,
      },
      profile.issuer.key,
    );
  };
}
