/**
 * fast-check arbitraries for the DER fuzz test: random bytes, random ASN.1-shaped trees, and
 * mutations of real fixtures. A mutated input is a plain description (fixture name, tree edits,
 * byte edits) so fast-check can shrink it and print it; `applyMutation` turns it into bytes.
 */
import fc from 'fast-check';
import { type DerNode, cloneDerTree, encodeDerTree, parseDerTree, walkDerTree } from './der-tree.js';

/**
 * An edit of one node, chosen by `at` (an index into the pre-order walk, modulo its size).
 * Header edits produce BER forms (long or indefinite lengths, high-tag-number identifiers,
 * constructed strings) or lies (a declared length that is not the real one); structure edits
 * remove, repeat, swap, insert or wrap elements; content edits write a chosen value.
 */
export type TreeEdit =
  | { edit: 'long-length'; at: number; octets: number }
  | { edit: 'indefinite-length'; at: number }
  | { edit: 'high-tag-form'; at: number }
  | { edit: 'length-lie'; at: number; delta: number }
  | { edit: 'huge-length'; at: number; length: number; octets: number }
  | { edit: 'retag'; at: number; tag: number }
  | { edit: 'constructed-string'; at: number; pieces: number }
  | { edit: 'remove'; at: number }
  | { edit: 'duplicate'; at: number }
  | { edit: 'swap'; at: number }
  | { edit: 'insert'; at: number; hex: string }
  | { edit: 'wrap'; at: number; depth: number }
  | { edit: 'content'; at: number; value: ContentEdit };

/** What a content edit writes into a primitive node. */
export type ContentEdit =
  | { kind: 'bytes'; hex: string }
  | { kind: 'truncate'; keep: number }
  | { kind: 'integer-pad'; octet: 0x00 | 0xff }
  | { kind: 'negate' }
  | { kind: 'time'; text: string; tag?: 0x17 | 0x18 }
  | { kind: 'oid-pad'; arc: number }
  | { kind: 'oid-huge-arc'; octets: number }
  | { kind: 'oid-open-end' };

/** Byte-level edits of the encoded result; positions are taken modulo the length. */
export type ByteEdit =
  | { edit: 'flip'; pos: number; bit: number }
  | { edit: 'set'; pos: number; byte: number }
  | { edit: 'insert-bytes'; pos: number; hex: string }
  | { edit: 'delete-bytes'; pos: number; count: number }
  | { edit: 'truncate'; keep: number }
  | { edit: 'append'; hex: string };

export interface Mutation {
  fixture: string;
  tree: readonly TreeEdit[];
  bytes: readonly ByteEdit[];
}

/** Valid and invalid times: calendar errors, RFC 5280 profile breaks, BER offsets, far years. */
const TIMES = [
  '20260115120000Z',
  '20260115120000.5Z',
  '20260115120000.123456789Z',
  '20260115120000.50Z',
  '20261315120000Z',
  '20260230120000Z',
  '20280229000000Z',
  '20270229000000Z',
  '20260100120000Z',
  '20260115240000Z',
  '20260115126000Z',
  '20260115120060Z',
  '00500101000000Z',
  '00000101000000Z',
  '99991231235959Z',
  '202601151200Z',
  '20260115120000',
  '20260115120000+0100',
  '20260115120000.Z',
  '20260115120000,5Z',
  '2026011512000 Z',
  '260115120000Z',
  '2601151200Z',
  '260115120000+0100',
  '491231235959Z',
  '500101000000Z',
  '261315120000Z',
  '260230120000Z',
  '',
  'Z',
];

const hexArb = (maxLength: number): fc.Arbitrary<string> => fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString('hex'));

/** Small elements worth inserting: common tags, empty and odd contents, bits of real structures. */
const insertHexArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0500', '0101ff', '010100', '020105', '0a0100', '0400', '3000', '3100', '0300', '0301ff', 'a000', 'a003020102'),
  fc.constantFrom('06082b06010505073001', '0603551d13', '0603551d11', '301006082b0601050507030906', '8200', '86116874'),
  fc.constantFrom('1f2200', '3f8100', '9f7f0100', '3080', '308400000000', '0484ffffffff', '30880000000000000001'),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), hexArb(8))
    .map(([tag, body]) => `${tag.toString(16).padStart(2, '0')}${(body.length / 2).toString(16).padStart(2, '0')}${body}`),
);

const contentEditArb: fc.Arbitrary<ContentEdit> = fc.oneof(
  hexArb(12).map((hex) => ({ kind: 'bytes' as const, hex })),
  fc.constantFrom('', '00', 'ff', '80', '01', '7f', '0000', '00ff', 'ff00', '0005', '05').map((hex) => ({ kind: 'bytes' as const, hex })),
  fc.nat(40).map((keep) => ({ kind: 'truncate' as const, keep })),
  fc.constantFrom(0x00 as const, 0xff as const).map((octet) => ({ kind: 'integer-pad' as const, octet })),
  fc.constant({ kind: 'negate' as const }),
  fc
    .tuple(fc.constantFrom(...TIMES), fc.constantFrom(undefined, 0x17 as const, 0x18 as const))
    .map(([text, tag]) => ({ kind: 'time' as const, text, ...(tag !== undefined && { tag }) })),
  fc.nat(12).map((arc) => ({ kind: 'oid-pad' as const, arc })),
  fc.integer({ min: 1, max: 24 }).map((octets) => ({ kind: 'oid-huge-arc' as const, octets })),
  fc.constant({ kind: 'oid-open-end' as const }),
);

const at = fc.nat();

export const treeEditArb: fc.Arbitrary<TreeEdit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ edit: fc.constant('long-length' as const), at, octets: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('indefinite-length' as const), at }) },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('high-tag-form' as const), at }) },
  {
    weight: 3,
    arbitrary: fc.record({ edit: fc.constant('length-lie' as const), at, delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      edit: fc.constant('huge-length' as const),
      at,
      length: fc.constantFrom(0x7fffffff, 0xffffffff, 0x1000000, 2 ** 40, Number.MAX_SAFE_INTEGER),
      octets: fc.integer({ min: 4, max: 8 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('retag' as const), at, tag: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('constructed-string' as const), at, pieces: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ edit: fc.constant('remove' as const), at }) },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('duplicate' as const), at }) },
  { weight: 1, arbitrary: fc.record({ edit: fc.constant('swap' as const), at }) },
  { weight: 3, arbitrary: fc.record({ edit: fc.constant('insert' as const), at, hex: insertHexArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      edit: fc.constant('wrap' as const),
      at,
      depth: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(64, 1000, 5000)),
    }),
  },
  { weight: 6, arbitrary: fc.record({ edit: fc.constant('content' as const), at, value: contentEditArb }) },
);

export const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ edit: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      edit: fc.constant('set' as const),
      pos: fc.nat(),
      byte: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x88, 0xff),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ edit: fc.constant('insert-bytes' as const), pos: fc.nat(), hex: hexArb(4).filter((h) => h.length > 0) }),
  },
  { weight: 1, arbitrary: fc.record({ edit: fc.constant('delete-bytes' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ edit: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ edit: fc.constant('append' as const), hex: hexArb(4).filter((h) => h.length > 0) }) },
);

/**
 * Mutations of the named fixtures: mostly structure-aware tree edits (so the result still looks
 * like the structure and reaches deep fields), sometimes byte edits on top, sometimes bytes only.
 */
export function mutationArb(fixtures: readonly string[]): fc.Arbitrary<Mutation> {
  const fixture = fc.constantFrom(...fixtures);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ fixture, tree: fc.array(treeEditArb, { minLength: 1, maxLength: 3 }), bytes: fc.constant([]) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        fixture,
        tree: fc.array(treeEditArb, { maxLength: 2 }),
        bytes: fc.array(byteEditArb, { minLength: 1, maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ fixture, tree: fc.constant([]), bytes: fc.constant([]) }) },
  );
}

/** Applies `mutation` to `fixtureDer` (the bytes of `mutation.fixture`). */
export function applyMutation(fixtureDer: Buffer, mutation: Mutation): Buffer {
  const root = cloneDerTree(parseDerTree(fixtureDer));
  for (const edit of mutation.tree) applyTreeEdit(root, edit);
  let out = encodeDerTree(root);
  for (const edit of mutation.bytes) out = applyByteEdit(out, edit);
  return out;
}

function applyTreeEdit(root: DerNode, edit: TreeEdit): void {
  const nodes = walkDerTree(root);
  const { node, path } = nodes[edit.at % nodes.length]!;
  const parent = path.length > 0 ? nodes.find((entry) => sameNumbers(entry.path, path.slice(0, -1)))!.node : undefined;
  const index = path[path.length - 1] ?? 0;
  switch (edit.edit) {
    case 'long-length':
      node.header = { ...node.header, lengthForm: edit.octets };
      break;
    case 'indefinite-length':
      node.header = { ...node.header, lengthForm: 'indefinite' };
      break;
    case 'high-tag-form':
      node.header = { ...node.header, highTagForm: true };
      break;
    case 'length-lie':
      node.header = { ...node.header, declaredLength: Math.max(0, encodedBodyLength(node) + edit.delta) };
      break;
    case 'huge-length':
      node.header = { ...node.header, declaredLength: edit.length, lengthForm: edit.octets };
      break;
    case 'retag':
      node.tag = (edit.tag & 0x1f) === 0x1f ? edit.tag & 0xfe : edit.tag;
      break;
    case 'constructed-string':
      if (node.content) {
        const pieces = splitInto(node.content, edit.pieces);
        const inner = (node.tag & 0xc0) === 0 ? node.tag : 0x04;
        node.children = pieces.map((content) => ({ tag: inner, content }));
        delete node.content;
        node.tag |= 0x20;
      }
      break;
    case 'remove':
      parent?.children?.splice(index, 1);
      break;
    case 'duplicate':
      parent?.children?.splice(index, 0, cloneDerTree(node));
      break;
    case 'swap':
      if (parent?.children && index + 1 < parent.children.length) {
        const [a, b] = [parent.children[index]!, parent.children[index + 1]!];
        parent.children.splice(index, 2, b, a);
      }
      break;
    case 'insert':
      (parent?.children ?? node.children)?.splice(index, 0, { tag: 0, raw: Buffer.from(edit.hex, 'hex') });
      break;
    case 'wrap':
      node.nest = (node.nest ?? 0) + edit.depth;
      break;
    case 'content':
      applyContentEdit(node, edit.value);
      break;
  }
}

function applyContentEdit(node: DerNode, value: ContentEdit): void {
  const content = node.content ?? encodeChildren(node);
  let next: Buffer;
  switch (value.kind) {
    case 'bytes':
      next = Buffer.from(value.hex, 'hex');
      break;
    case 'truncate':
      next = content.subarray(0, Math.min(value.keep, Math.max(0, content.length - 1)));
      break;
    case 'integer-pad':
      next = Buffer.concat([Buffer.from([value.octet]), content]);
      break;
    case 'negate':
      next = Buffer.from(content);
      if (next.length > 0) next[0] = next[0]! ^ 0x80;
      break;
    case 'time':
      next = Buffer.from(value.text, 'latin1');
      if (value.tag !== undefined) node.tag = value.tag;
      break;
    case 'oid-pad': {
      // Put a 0x80 octet in front of the arc that starts at the chosen arc boundary.
      const starts = [0, ...Array.from(content.keys()).filter((i) => i > 0 && !(content[i - 1]! & 0x80))];
      const start = starts[value.arc % starts.length] ?? 0;
      next = Buffer.concat([content.subarray(0, start), Buffer.from([0x80]), content.subarray(start)]);
      break;
    }
    case 'oid-huge-arc':
      next = Buffer.concat([content, Buffer.alloc(value.octets - 1, 0xff), Buffer.from([0x7f])]);
      break;
    case 'oid-open-end':
      next = Buffer.concat([content, Buffer.from([0x81])]);
      break;
  }
  node.content = next;
  delete node.children;
  if (node.tag & 0x20 && node.tag !== 0x30 && node.tag !== 0x31) node.tag &= ~0x20;
}

function applyByteEdit(buf: Buffer, edit: ByteEdit): Buffer {
  if (buf.length === 0) return edit.edit === 'append' || edit.edit === 'insert-bytes' ? Buffer.from(edit.hex, 'hex') : buf;
  const out = Buffer.from(buf);
  switch (edit.edit) {
    case 'flip':
      out[edit.pos % out.length] = out[edit.pos % out.length]! ^ (1 << edit.bit);
      return out;
    case 'set':
      out[edit.pos % out.length] = edit.byte;
      return out;
    case 'insert-bytes': {
      const pos = edit.pos % (out.length + 1);
      return Buffer.concat([out.subarray(0, pos), Buffer.from(edit.hex, 'hex'), out.subarray(pos)]);
    }
    case 'delete-bytes': {
      const pos = edit.pos % out.length;
      return Buffer.concat([out.subarray(0, pos), out.subarray(pos + edit.count)]);
    }
    case 'truncate':
      return out.subarray(0, edit.keep % out.length);
    case 'append':
      return Buffer.concat([out, Buffer.from(edit.hex, 'hex')]);
  }
}

function encodeChildren(node: DerNode): Buffer {
  return Buffer.concat((node.children ?? []).map(encodeDerTree));
}

function encodedBodyLength(node: DerNode): number {
  const whole = encodeDerTree({ ...node, header: undefined });
  const first = whole[1]!;
  return whole.length - 2 - (first & 0x80 ? first & 0x7f : 0);
}

function splitInto(content: Buffer, pieces: number): Buffer[] {
  const size = Math.max(1, Math.ceil(content.length / pieces));
  const out: Buffer[] = [];
  for (let i = 0; i < content.length; i += size) out.push(content.subarray(i, i + size));
  return out.length > 0 ? out : [content];
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Random ASN.1-shaped trees: any tag, short contents, nesting a few levels deep. They look enough
 * like DER to get past the first header checks, unlike uniformly random bytes.
 */
export const randomTreeArb: fc.Arbitrary<Buffer> = fc
  .letrec<{ node: DerNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({
        tag: fc.integer({ min: 0, max: 255 }).map((t) => ((t & 0x1f) === 0x1f ? t & 0xfe : t) & ~0x20),
        content: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      }),
      fc.record({ tag: fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3), children: fc.array(tie('node'), { maxLength: 5 }) }),
    ),
  }))
  .node.map((node) => encodeDerTree(node.children ? node : { tag: 0x30, children: [node] }));
