// Just enough DER to put SingleResponses from several real `openssl ocsp` answers into one response
// and sign it again, for responses openssl cannot make in one go (each certificate with its own
// nextUpdate). Everything else in the bytes is openssl's.
//   OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT SEQUENCE { oid, OCTET STRING } }
//   BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] }
//   ResponseData ::= SEQUENCE { [0] version?, responderID, producedAt, responses SEQUENCE OF SingleResponse, [1] ext? }
import { createPrivateKey, sign } from 'node:crypto';

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset past the last content byte. */
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at];
  const first = buf[at + 1];
  if (tag === undefined || first === undefined) throw new Error(`DER: truncated at ${at}`);
  let length = first;
  let body = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[body + i] ?? 0);
    body += n;
  }
  if (body + length > buf.length) throw new Error(`DER: length past the end at ${at}`);
  return { tag, start: at, body, end: body + length };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end;) {
    const child = readTlv(buf, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function nth(list: Tlv[], i: number): Tlv {
  const found = list[i];
  if (!found) throw new Error(`DER: no element ${i}`);
  return found;
}

function encode(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}

const bytes = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.start, tlv.end);

interface Parsed {
  der: Buffer;
  /** The BasicOCSPResponse (inside the OCTET STRING). */
  basic: Buffer;
  tbsParts: Tlv[];
  responsesIndex: number;
  basicParts: Tlv[];
}

function parse(der: Buffer): Parsed {
  const top = children(der, readTlv(der, 0));
  const responseBytes = children(der, nth(children(der, nth(top, 1)), 0));
  const octets = nth(responseBytes, 1);
  const basic = der.subarray(octets.body, octets.end);
  const basicParts = children(basic, readTlv(basic, 0));
  const tbsParts = children(basic, nth(basicParts, 0));
  // responses is the only universal SEQUENCE (0x30) in ResponseData.
  const responsesIndex = tbsParts.findIndex((t) => t.tag === 0x30);
  if (responsesIndex < 0) throw new Error('DER: no responses in ResponseData');
  return { der, basic, tbsParts, responsesIndex, basicParts };
}

/**
 * One successful OCSPResponse holding the SingleResponses of `responses` (DER, each from `openssl ocsp`
 * with the same signer and `-rmd sha256`), in that order, framed like the first and signed again with
 * `signerKeyPem` (ECDSA or RSA with SHA-256, as the first's signatureAlgorithm says).
 */
export function combineResponses(responses: readonly Buffer[], signerKeyPem: string): Buffer {
  const parsed = responses.map(parse);
  const first = parsed[0];
  if (!first) throw new Error('no responses to combine');
  const singles = parsed.flatMap((p) => children(p.basic, nth(p.tbsParts, p.responsesIndex)).map((t) => bytes(p.basic, t)));
  const tbs = encode(
    0x30,
    ...first.tbsParts.map((part, i) => (i === first.responsesIndex ? encode(0x30, ...singles) : bytes(first.basic, part))),
  );
  const signature = sign('sha256', tbs, createPrivateKey(signerKeyPem));
  const rest = first.basicParts.slice(3).map((part) => bytes(first.basic, part)); // certs [0], if any
  const basic = encode(0x30, tbs, bytes(first.basic, nth(first.basicParts, 1)), encode(0x03, Buffer.from([0]), signature), ...rest);
  const ocspBasicOid = Buffer.from('06092b0601050507300101', 'hex'); // id-pkix-ocsp-basic
  return encode(0x30, Buffer.from('0a0100', 'hex'), encode(0xa0, encode(0x30, ocspBasicOid, encode(0x04, basic))));
}
