import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, generateNoteKey, openNote, parseCheckpoint, signNote, verifierKeyOf } from '../../src/governance/audit-log/checkpoint-note.js';
import { leafHash } from '../../src/governance/audit-log/merkle-hash.js';
import { inclusionProof, rootOf } from '../../src/governance/audit-log/merkle-tree.js';
import { verifyInclusion } from '../../src/governance/audit-log/merkle-verify.js';
import { fixture } from './helpers.js';

interface Vectors {
  goSumdbNote: {
    peter: { signerKey: string; verifierKey: string; keyHash: string; signatureLine: string };
    enoch: { verifierKey: string; keyHash: string; signatureLine: string };
    text: string;
    signedByPeter: string;
    badVerifierKeys: string[];
  };
  c2sp: { signedNoteExample: { verifierKey: string; note: string }; signedNoteIntroduction: string; checkpointExample: string };
}
const { goSumdbNote: go, c2sp } = fixture<Vectors>('signed-note.json');
const { peter, enoch, text } = go;
const peterSig = peter.signatureLine;
const enochSig = enoch.signatureLine;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const reasonOf = (r: ReturnType<typeof openNote>) => (r.ok ? 'ok' : r.reason);

describe('signed notes: golang.org/x/mod/sumdb/note vectors', () => {
  it('derives the published verifier key from the published signer key', () => {
    expect(verifierKeyOf(peter.signerKey)).toBe(peter.verifierKey);
  });

  it('signs the published text to the published note, byte for byte (TestSign)', () => {
    expect(signNote(text, peter.signerKey)).toBe(go.signedByPeter);
    expect(go.signedByPeter).toBe(`${text}\n${peterSig}`);
  });

  it('opens the published note with the published key', () => {
    const r = openNote(go.signedByPeter, [peter.verifierKey]);
    expect(r).toEqual({ ok: true, value: { text, signatures: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3 }] } });
  });

  it('TestOpen: one known and one unknown signature → ok with the known one; both known → both', () => {
    const note = `${text}\n${peterSig}${enochSig}`;
    expect(openNote(note, [peter.verifierKey])).toEqual({ ok: true, value: { text, signatures: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3 }] } });
    expect(openNote(note, [peter.verifierKey, enoch.verifierKey])).toEqual({
      ok: true,
      value: { text, signatures: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3 }, { name: 'EnochRoot', keyHash: 0xaf0cfe78 }] },
    });
    expect(openNote(note, [enoch.verifierKey]).ok).toBe(true);
  });

  it('TestOpen: no known key → not ok', () => {
    expect(reasonOf(openNote(`${text}\n${peterSig}${enochSig}`, []))).toBe('note has no verifiable signatures');
  });

  it('TestOpen: the same key listed twice and unused, or used → ok', () => {
    expect(openNote(`${text}\n${peterSig}`, [enoch.verifierKey, peter.verifierKey, enoch.verifierKey]).ok).toBe(true);
    expect(openNote(`${text}\n${enochSig}`, [enoch.verifierKey, peter.verifierKey, enoch.verifierKey]).ok).toBe(true);
  });

  it('TestOpen: more than 100 signatures → malformed, known key or not', () => {
    expect(reasonOf(openNote(`${text}\n${peterSig.repeat(101)}`, [peter.verifierKey]))).toMatch(/^malformed note/);
    expect(reasonOf(openNote(`${text}\n${peterSig.repeat(101)}`, []))).toMatch(/^malformed note/);
    expect(openNote(`${text}\n${peterSig.repeat(100)}`, [peter.verifierKey]).ok).toBe(true);
  });

  it('TestOpen: an invalid signature by a known key → not ok', () => {
    const note = `${text}\n${peterSig.slice(0, 60)}ABCD${peterSig.slice(60)}`;
    expect(reasonOf(openNote(note, [peter.verifierKey]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('TestOpen: duplicated verified and unverified signatures → ok, each key once', () => {
    const note = `${text}\n${peterSig}${peterSig}${enochSig}${enochSig}${enochSig.slice(0, 60)}ABCD${enochSig.slice(60)}`;
    expect(openNote(note, [peter.verifierKey])).toEqual({ ok: true, value: { text, signatures: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3 }] } });
  });

  it('TestOpen: malformed encodings → malformed note', () => {
    const bad = [
      text,
      `${text}\n`,
      `${text}\n${peterSig.slice(0, -1)}`,
      `\u0001${text}\n${peterSig}`,
      `\ud800${text}\n${peterSig}`, // Go's "\xff": not valid UTF-8
      `${text}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${text}\n${peterSig}Unexpected line.\n`,
    ];
    for (const note of bad) expect(reasonOf(openNote(note, [peter.verifierKey])), JSON.stringify(note)).toMatch(/^malformed note/);
  });

  it('TestOpen: a signature naming another key is not that key’s (wrong name or hash → unknown)', () => {
    expect(reasonOf(openNote(`${text}\n${peterSig.replaceAll('PeterNeumann', 'CarmenSandiego')}`, [peter.verifierKey]))).toBe('note has no verifiable signatures');
    expect(reasonOf(openNote(`${text}\n${peterSig.replaceAll('x08g', 'xxxx')}`, [peter.verifierKey]))).toBe('note has no verifiable signatures');
  });

  it('TestNewVerifier: every substring and every one-character change of the verifier key is refused', () => {
    const vkey = peter.verifierKey;
    const tried: string[] = [];
    for (let i = 0; i <= vkey.length; i++) for (let j = i + 1; j <= vkey.length; j++) if (i !== 0 || j !== vkey.length) tried.push(vkey.slice(i, j));
    for (let i = 0; i < vkey.length; i++) tried.push(vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1));
    tried.push(...go.badVerifierKeys);
    for (const k of tried) expect(reasonOf(openNote(go.signedByPeter, [k])), k).toBe('malformed verifier key');
  });

  it('TestNewSigner: every substring and every one-character change of the signer key is refused', () => {
    const skey = peter.signerKey;
    const tried: string[] = [];
    for (let i = 0; i <= skey.length; i++) for (let j = i + 1; j <= skey.length; j++) if (i !== 0 || j !== skey.length) tried.push(skey.slice(i, j));
    for (let i = 0; i < skey.length; i++) tried.push(skey.slice(0, i) + String.fromCharCode(skey.charCodeAt(i) + 1) + skey.slice(i + 1));
    for (const k of tried) {
      expect(() => verifierKeyOf(k), k).toThrow(TypeError);
      expect(() => signNote(text, k), k).toThrow(TypeError);
    }
  });
});

describe('signed notes: C2SP examples', () => {
  it('opens the signed-note.md example with its verifier key', () => {
    expect(openNote(c2sp.signedNoteExample.note, [c2sp.signedNoteExample.verifierKey])).toEqual({
      ok: true,
      value: { text: 'This is an example message.\n', signatures: [{ name: 'example.com/foo', keyHash: 0x530d903a }] },
    });
  });

  it('parses a note whose text has empty lines (split at the last blank line), its key unknown', () => {
    expect(reasonOf(openNote(c2sp.signedNoteIntroduction, [peter.verifierKey]))).toBe('note has no verifiable signatures');
    const { signerKey, verifierKey } = generateNoteKey('quasimodo.example/salvatore');
    const poem = c2sp.signedNoteIntroduction.slice(0, c2sp.signedNoteIntroduction.lastIndexOf('\n\n') + 1);
    expect(poem).toContain('\n\n');
    const note = signNote(poem, signerKey);
    expect(openNote(note, [verifierKey])).toMatchObject({ ok: true, value: { text: poem } });
    // The other signature (an unknown key with the same name) is ignored.
    const both = note + c2sp.signedNoteIntroduction.slice(c2sp.signedNoteIntroduction.lastIndexOf('\n\n') + 2);
    expect(openNote(both, [verifierKey])).toMatchObject({ ok: true, value: { text: poem } });
  });

  it('parses the tlog-checkpoint.md example checkpoint', () => {
    const note = c2sp.checkpointExample;
    expect(reasonOf(openNote(note, []))).toBe('note has no verifiable signatures');
    const body = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const r = parseCheckpoint(body);
    expect(r.ok && { ...r.value, rootHash: r.value.rootHash.toString('base64') }).toEqual({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
      rootHash: 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=',
      extensions: [],
    });
    expect(formatCheckpoint(r.ok ? r.value : (undefined as never))).toBe(body);
  });
});

describe('signed notes: keys, round trips and tampering', () => {
  it('generates working key pairs in the Go formats', () => {
    const { signerKey, verifierKey } = generateNoteKey('example.com/log');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+A[Q-Za-f][A-Za-z0-9+/]{42}$/);
    expect(verifierKey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+A[Q-Za-f][A-Za-z0-9+/]{42}$/);
    expect(verifierKeyOf(signerKey)).toBe(verifierKey);
    expect(signerKey.split('+')[3]).toBe(verifierKey.split('+')[1]);
  });

  it('refuses invalid key names', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\nb', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\u0085b', 'a\u0001b', '\ud800']) expect(() => generateNoteKey(name), JSON.stringify(name)).toThrow(TypeError);
    expect(() => generateNoteKey('ünïcødé.example/ok')).not.toThrow();
  });

  it('round-trips any valid text, including empty lines and non-ASCII', () => {
    const { signerKey, verifierKey } = generateNoteKey('example.com/log');
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\u0000-\u001f]/g, ''));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const t = lines.map((l) => `${l}\n`).join('');
        const r = openNote(signNote(t, signerKey), [verifierKey]);
        expect(r).toEqual({ ok: true, value: { text: t, signatures: [{ name: 'example.com/log', keyHash: Number.parseInt(verifierKey.split('+')[1]!, 16) }] } });
      }),
      { numRuns: 100 },
    );
  });

  it('refuses to sign invalid text', () => {
    for (const t of ['', 'no newline', 'tab\there\n', 'cr\r\n', '\ud800\n', 'nul\u0000\n']) expect(() => signNote(t, peter.signerKey), JSON.stringify(t)).toThrow(TypeError);
  });

  it('fails on tampered text, a wrong key and a tampered signature', () => {
    const note = signNote(text, peter.signerKey);
    expect(reasonOf(openNote(note.replace('cryptography', 'cryptographY'), [peter.verifierKey]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
    expect(reasonOf(openNote(note.replace('problem,\n', 'problem,\n\n'), [peter.verifierKey]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
    const other = generateNoteKey('PeterNeumann');
    expect(reasonOf(openNote(note, [other.verifierKey]))).toBe('note has no verifiable signatures');
    const raw = Buffer.from(peterSig.slice(2 + 'PeterNeumann '.length, -1), 'base64');
    for (const at of [4, 20, 67]) {
      const copy = Buffer.from(raw);
      copy[at]! ^= 0x40;
      expect(reasonOf(openNote(`${text}\n— PeterNeumann ${copy.toString('base64')}\n`, [peter.verifierKey])), `byte ${at}`).toBe('invalid signature for key PeterNeumann+c74f20a3');
    }
    const short = raw.subarray(0, 40).toString('base64');
    expect(reasonOf(openNote(`${text}\n— PeterNeumann ${short}\n`, [peter.verifierKey]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('a good signature does not excuse a bad one by another known key', () => {
    const note = `${text}\n${peterSig}${enochSig.slice(0, 60)}ABCD${enochSig.slice(60)}`;
    expect(reasonOf(openNote(note, [peter.verifierKey, enoch.verifierKey]))).toBe('invalid signature for key EnochRoot+af0cfe78');
  });

  it('a good signature does not excuse a bad one by the same key', () => {
    const note = `${text}\n${peterSig}${peterSig.slice(0, 60)}ABCD${peterSig.slice(60)}`;
    expect(reasonOf(openNote(note, [peter.verifierKey]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('accepts 16 signatures by different keys (the spec’s minimum)', () => {
    const keys = Array.from({ length: 16 }, (_, i) => generateNoteKey(`witness${i}.example`));
    const lines = keys.map((k) => signNote(text, k.signerKey).slice(text.length + 1)).join('');
    const r = openNote(`${text}\n${lines}`, keys.map((k) => k.verifierKey));
    expect(r.ok && r.value.signatures.length).toBe(16);
  });

  it('refuses non-canonical base64 in a signature', () => {
    const b = peterSig.slice(2 + 'PeterNeumann '.length, -1);
    expect(b.slice(-2)).toBe('M=');
    // Missing padding, non-zero padding bits (decodes to the same bytes), base64url, a leading space.
    for (const s of [b.slice(0, -1), `${b.slice(0, -2)}N=`, b.replace('/', '_'), ` ${b}`]) {
      expect(reasonOf(openNote(`${text}\n— PeterNeumann ${s}\n`, [peter.verifierKey])), s).toMatch(/^malformed note/);
    }
    expect(Buffer.from(`${b.slice(0, -2)}N=`, 'base64').equals(Buffer.from(b, 'base64'))).toBe(true);
  });

  it('never throws, whatever the note or keys', () => {
    const junk: unknown[] = [undefined, null, 42, {}, [], Buffer.from(go.signedByPeter)];
    for (const j of junk) {
      expect(openNote(j as never, [peter.verifierKey]).ok).toBe(false);
      expect(openNote(go.signedByPeter, j as never).ok).toBe(false);
    }
    expect(openNote(go.signedByPeter, [42 as never]).ok).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        expect(openNote(s, [peter.verifierKey]).ok).toBe(false);
        expect(parseCheckpoint(s).ok === false || s.endsWith('\n')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('any one-character edit of a signed note is refused, or opens to the same text', () => {
    const note = go.signedByPeter;
    const alphabet = ['\n', ' ', '—', 'A', 'x', '+', '=', '\u0000', '\ud800'];
    fc.assert(
      fc.property(fc.nat(note.length), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...alphabet), (at, op, ch) => {
        const edited = op === 'insert' ? note.slice(0, at) + ch + note.slice(at) : op === 'delete' ? note.slice(0, at) + note.slice(at + 1) : note.slice(0, at) + ch + note.slice(at + 1);
        const r = openNote(edited, [peter.verifierKey]);
        if (r.ok) expect(edited).toBe(note);
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkpoints', () => {
  const root = rootOf([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);

  it('formats origin, size, base64 root and extensions, one per line', () => {
    expect(formatCheckpoint({ origin: 'example.com/log', size: 2, rootHash: root })).toBe(`example.com/log\n2\n${root.toString('base64')}\n`);
    expect(formatCheckpoint({ origin: 'o', size: 0, rootHash: root, extensions: ['x y', 'z'] })).toBe(`o\n0\n${root.toString('base64')}\nx y\nz\n`);
  });

  it('round-trips any valid checkpoint', () => {
    const line = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(line, fc.maxSafeNat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(line, { maxLength: 3 }), (origin, size, rootHash, extensions) => {
        const r = parseCheckpoint(formatCheckpoint({ origin, size, rootHash, extensions }));
        expect(r).toEqual({ ok: true, value: { origin, size, rootHash: Buffer.from(rootHash), extensions } });
      }),
      { numRuns: 200 },
    );
  });

  it('rejects strictly', () => {
    const r64 = root.toString('base64');
    const bad = [
      '',
      `o\n2\n${r64}`, // no final newline
      `o\n2\n`,
      `o\n2\n${r64}\n\n`, // empty extension line
      `\n2\n${r64}\n`, // empty origin
      `o\n02\n${r64}\n`,
      `o\n+2\n${r64}\n`,
      `o\n-2\n${r64}\n`,
      `o\n2.0\n${r64}\n`,
      `o\n2e0\n${r64}\n`,
      `o\n 2\n${r64}\n`,
      `o\n0x2\n${r64}\n`,
      `o\n\n${r64}\n`,
      `o\n9007199254740992\n${r64}\n`, // 2^53
      `o\n18446744073709551615\n${r64}\n`,
      `o\n2\n${root.subarray(0, 31).toString('base64')}\n`,
      `o\n2\n${Buffer.concat([root, Buffer.alloc(1)]).toString('base64')}\n`,
      `o\n2\n${r64.replace(/=$/, '')}\n`,
      `o\n2\n${r64.slice(0, 42)}${B64[B64.indexOf(r64[42]!) ^ 1]}=\n`, // non-zero padding bits: decodes to the same bytes
      `o\n2\n${'_'.repeat(42)}8=\n`, // base64url
      `o\r\n2\n${r64}\n`,
      `o\n2\n${r64}\r\n`,
      `o\n2\n${r64} \n`,
    ];
    for (const t of bad) expect(parseCheckpoint(t).ok, JSON.stringify(t)).toBe(false);
    expect(parseCheckpoint(`o\n9007199254740991\n${r64}\n`)).toMatchObject({ ok: true, value: { size: 9007199254740991 } });
    expect(parseCheckpoint(`o\n0\n${r64}\n`)).toMatchObject({ ok: true, value: { size: 0 } });
    expect(parseCheckpoint(`o\n2\n${'/'.repeat(42)}8=\n`)).toMatchObject({ ok: true, value: { rootHash: Buffer.alloc(32, 0xff) } });
    expect(Buffer.from(`${r64.slice(0, 42)}${B64[B64.indexOf(r64[42]!) ^ 1]}=`, 'base64').equals(root)).toBe(true);
  });

  it('refuses to format what it could not parse', () => {
    const ok = { origin: 'o', size: 1, rootHash: root };
    expect(() => formatCheckpoint({ ...ok, origin: '' })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...ok, origin: 'a\nb' })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...ok, origin: 'a\rb' })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...ok, size: -1 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...ok, size: 1.5 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...ok, size: 2 ** 53 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...ok, rootHash: root.subarray(1) })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...ok, extensions: [''] })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...ok, extensions: ['a\nb'] })).toThrow(TypeError);
  });

  it('signs, opens and parses a checkpoint, and an inclusion proof verifies against its root', () => {
    const { signerKey, verifierKey } = generateNoteKey('ballast.example/audit');
    const leaves = ['a', 'b', 'c', 'd', 'e'].map((s) => leafHash(Buffer.from(s)));
    const note = signNote(formatCheckpoint({ origin: 'ballast.example/audit', size: 5, rootHash: rootOf(leaves) }), signerKey);
    const opened = openNote(note, [verifierKey]);
    expect(opened.ok).toBe(true);
    const parsed = opened.ok ? parseCheckpoint(opened.value.text) : undefined;
    expect(parsed?.ok).toBe(true);
    if (parsed?.ok) {
      expect(parsed.value.size).toBe(5);
      expect(verifyInclusion({ leafHash: leaves[3]!, index: 3, size: 5, proof: inclusionProof(leaves, 3, 5), root: parsed.value.rootHash })).toBe(true);
    }
  });
});
