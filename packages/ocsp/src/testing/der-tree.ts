/**
 * A test-side ASN.1 tree for structure-aware fuzzing: fixtures (DER) are read into nodes, a node's
 * header or content is changed, and the whole is written back with every enclosing length fixed up.
 * It is deliberately independent of src/der.ts (the reader under test): recursive, copying, slow.
 */

/** One element. Constructed nodes (and strings that encapsulate DER) have `children`, others `content`. */
export interface DerNode {
  /** Identifier octet (low-tag-number form): class (2 bits), constructed (1 bit), number (5 bits). */
  tag: number;
  /** Content octets of a primitive node. */
  content?: Buffer;
  /** Elements inside a constructed node, or inside an OCTET STRING / BIT STRING holding DER. */
  children?: DerNode[];
  /** How the header is written; DER (minimal definite length, one identifier octet) when absent. */
  header?: HeaderForm;
  /** Bytes written as they are instead of the element (an inserted fragment, not necessarily ASN.1). */
  raw?: Buffer;
  /** Written inside this many SEQUENCE headers (deep nesting without deep recursion here). */
  nest?: number;
}

/** BER and broken header forms the mutator writes. */
export interface HeaderForm {
  /**
   * `minimal`: DER. A number: the long form with that many length octets (BER allows more than
   * needed). `indefinite`: 0x80 and an end-of-contents pair after the content.
   */
  lengthForm?: 'minimal' | number | 'indefinite';
  /** Declared length that differs from the real one (a lie); the content is written as it is. */
  declaredLength?: number;
  /** Identifier written in the high-tag-number form (0x1f | class | constructed, then the number). */
  highTagForm?: boolean;
}

/** Universal tags whose content may itself be DER (X.509 extension values, OCSP's response bytes, SPKI). */
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;

/**
 * Reads a DER/BER buffer into a tree; throws on anything it cannot represent (fixtures are DER).
 * OCTET STRINGs (and BIT STRINGs with no unused bits) whose content is exactly one or more DER
 * elements are read as containers, so mutations reach inside extension values and the
 * BasicOCSPResponse.
 */
export function parseDerTree(buf: Buffer): DerNode {
  const [node, end] = parseNode(buf, 0, buf.length);
  if (end !== buf.length) throw new Error('trailing bytes');
  return node;
}

function parseNode(buf: Buffer, offset: number, limit: number): [DerNode, number] {
  if (offset + 2 > limit) throw new Error('truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('high tag number');
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) throw new Error('length form');
    length = buf.subarray(start, start + octets).reduce((acc, b) => acc * 256 + b, 0);
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new Error('overrun');
  const content = buf.subarray(start, end);
  if (tag & 0x20) return [{ tag, children: parseChildren(buf, start, end) }, end];
  if (tag === OCTET_STRING && length > 0) {
    const inner = tryChildren(buf, start, end);
    if (inner) return [{ tag, children: inner }, end];
  }
  if (tag === BIT_STRING && length > 1 && content[0] === 0) {
    const inner = tryChildren(buf, start + 1, end);
    if (inner) return [{ tag, children: inner }, end];
  }
  return [{ tag, content: Buffer.from(content) }, end];
}

function parseChildren(buf: Buffer, start: number, end: number): DerNode[] {
  const out: DerNode[] = [];
  for (let at = start; at < end;) {
    const [child, next] = parseNode(buf, at, end);
    out.push(child);
    at = next;
  }
  return out;
}

function tryChildren(buf: Buffer, start: number, end: number): DerNode[] | undefined {
  try {
    return parseChildren(buf, start, end);
  } catch {
    return undefined;
  }
}

/** Writes the tree back; with no `header` overrides this reproduces the DER it was read from. */
export function encodeDerTree(node: DerNode): Buffer {
  const element = encodeElement(node);
  if (!node.nest) return element;
  const headers: Buffer[] = [];
  let length = element.length;
  for (let i = 0; i < node.nest; i++) {
    const header = Buffer.concat([Buffer.from([0x30]), lengthOctets(length)]);
    headers.push(header);
    length += header.length;
  }
  return Buffer.concat([...headers.reverse(), element]);
}

function encodeElement(node: DerNode): Buffer {
  if (node.raw) return node.raw;
  const body = nodeBody(node);
  const form = node.header ?? {};
  const out = [identifier(node.tag, form.highTagForm === true), lengthOctets(form.declaredLength ?? body.length, form.lengthForm)];
  out.push(body);
  if (form.lengthForm === 'indefinite') out.push(Buffer.from([0, 0]));
  return Buffer.concat(out);
}

function nodeBody(node: DerNode): Buffer {
  if (!node.children) return node.content ?? Buffer.alloc(0);
  const inner = Buffer.concat(node.children.map(encodeDerTree));
  return node.tag === BIT_STRING ? Buffer.concat([Buffer.from([0]), inner]) : inner;
}

function identifier(tag: number, highTagForm: boolean): Buffer {
  if (!highTagForm) return Buffer.from([tag]);
  return Buffer.from([tag | 0x1f, tag & 0x1f]);
}

/** Length octets: DER's minimal form, the long form with `octets` octets, or the indefinite form. */
export function lengthOctets(length: number, form: HeaderForm['lengthForm'] = 'minimal'): Buffer {
  if (form === 'indefinite') return Buffer.from([0x80]);
  const needed = length < 0x80 ? 0 : Math.ceil(Math.log2(length + 1) / 8);
  const octets = form === 'minimal' ? needed : Math.max(form, needed);
  if (octets === 0) return Buffer.from([length]);
  const out = Buffer.alloc(1 + octets);
  out[0] = 0x80 | octets;
  for (let i = 0, rest = length; i < octets; i++, rest = Math.floor(rest / 256)) out[octets - i] = rest % 256;
  return out;
}

/** Every node in pre-order, with its path of child indices from the root. */
export function walkDerTree(root: DerNode): { node: DerNode; path: number[] }[] {
  const out: { node: DerNode; path: number[] }[] = [];
  const visit = (node: DerNode, path: number[]): void => {
    out.push({ node, path });
    node.children?.forEach((child, i) => visit(child, [...path, i]));
  };
  visit(root, []);
  return out;
}

/** A deep copy (mutations never touch the fixture's tree). */
export function cloneDerTree(node: DerNode): DerNode {
  return {
    tag: node.tag,
    ...(node.content && { content: Buffer.from(node.content) }),
    ...(node.children && { children: node.children.map(cloneDerTree) }),
    ...(node.header && { header: { ...node.header } }),
    ...(node.raw && { raw: Buffer.from(node.raw) }),
    ...(node.nest && { nest: node.nest }),
  };
}

/** DER helpers for building nodes by hand. */
export const der = {
  primitive: (tag: number, content: Buffer | number[] | string): DerNode => ({
    tag,
    content: Buffer.isBuffer(content) ? content : typeof content === 'string' ? Buffer.from(content, 'latin1') : Buffer.from(content),
  }),
  constructed: (tag: number, ...children: DerNode[]): DerNode => ({ tag, children }),
};
