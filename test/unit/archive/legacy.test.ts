/**
 * Archives of the earlier format (steward-archive/1), which Steward still reads:
 * round trips at the chunk edges, several recipients, the wrong key, an
 * independent decoder written from the documented format (docs/archives.md), and
 * every kind of tampering rejected with the right error. The archives come from
 * the earlier encoder, kept in test/helpers/legacy-archive.ts.
 */
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CryptoError, ExitCode } from '../../../src/errors.js';
import { generateRecipient, type GeneratedRecipient } from '../../../src/archive/keys.js';
import {
  CHUNK_BYTES,
  decryptLegacyBuffer as decryptBuffer,
  headerLength,
  LEGACY_MAGIC as ARCHIVE_MAGIC,
  LegacyDecryptor as ArchiveDecryptor,
  looksLikeLegacy as looksLikeArchive,
  MAX_RECIPIENTS,
} from '../../../src/archive/legacy.js';
import { ArchiveEncryptor, archiveLength, legacyEncrypt as encryptBuffer } from '../../helpers/legacy-archive.js';

const SEALED = CHUNK_BYTES + 16;
const alice = generateRecipient();
const bob = generateRecipient();
const eve = generateRecipient();

function failure(fn: () => unknown): CryptoError {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof CryptoError)) throw new Error(`expected a CryptoError, got ${caught === null ? 'success' : String(caught)}`);
  return caught;
}

/** Feeds `data` in pieces of the given sizes (cycled), like a stream would. */
function inPieces<T extends { update(d: Uint8Array): Buffer[]; final(): Buffer[] }>(codec: T, data: Buffer, sizes: number[]): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(...codec.update(data.subarray(at, at + n)));
    at += n;
  }
  out.push(...codec.final());
  return Buffer.concat(out);
}

/** The raw X25519 private scalar of a key pair. */
const secretOf = (r: GeneratedRecipient): Buffer => Buffer.from(r.identity.keyObject().export({ format: 'jwk' }).d!, 'base64url');

/** Every text form a key's secret could leak as. */
function secretForms(r: GeneratedRecipient): string[] {
  const raw = secretOf(r);
  return [r.privateKey, raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')];
}

describe('archive round trips', () => {
  const sizes = [0, 1, 100, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, 3 * CHUNK_BYTES + 12_345];
  it.each(sizes)('%i bytes: encrypts to the documented size and decrypts to the same bytes', (size) => {
    const data = randomBytes(size);
    const archive = encryptBuffer(data, [alice.publicKey]);
    expect(archive.length).toBe(archiveLength(size, 1));
    expect(archive.length).toBe(58 + 88 + size + 16 * Math.max(1, Math.ceil(size / CHUNK_BYTES)));
    expect(looksLikeArchive(archive)).toBe(true);
    expect(archive.subarray(0, 18).toString('latin1')).toBe('steward-archive/1\n');
    expect(decryptBuffer(archive, alice.identity).equals(data)).toBe(true);
  });

  it('gives the same result whatever sizes the input arrives in', () => {
    const data = randomBytes(3 * CHUNK_BYTES + 777);
    for (const pieces of [[1], [7, 65_535, 3], [CHUNK_BYTES], [SEALED], [SEALED + 1, SEALED - 1], [1_000_000]]) {
      const archive = inPieces(new ArchiveEncryptor([alice.publicKey]), data, pieces.map((n) => n * (pieces[0] === 1 ? 997 : 1)));
      expect(archive.length).toBe(archiveLength(data.length, 1));
      expect(inPieces(new ArchiveDecryptor(alice.identity), archive, pieces).equals(data)).toBe(true);
    }
    // One byte at a time through the header and the chunk edges.
    const small = randomBytes(CHUNK_BYTES + 5);
    expect(inPieces(new ArchiveDecryptor(alice.identity), encryptBuffer(small, [alice.publicKey]), [1]).equals(small)).toBe(true);
  });

  it('encrypts to several recipients: each decrypts alone; duplicates are one stanza', () => {
    const data = Buffer.from('subject access export: 3 rows');
    const archive = encryptBuffer(data, [alice.publicKey, bob.publicKey, alice.publicKey]);
    expect(archive[18]).toBe(2);
    expect(archive.length).toBe(archiveLength(data.length, 2));
    expect(decryptBuffer(archive, alice.identity).equals(data)).toBe(true);
    expect(decryptBuffer(archive, bob.identity).equals(data)).toBe(true);
    const dec = new ArchiveDecryptor([eve.identity, bob.identity]);
    expect(Buffer.concat([...dec.update(archive), ...dec.final()]).equals(data)).toBe(true);
    expect(dec.recipient?.publicKey).toBe(bob.publicKey);
    expect(dec.recipientIds).toEqual([alice.identity.id, bob.identity.id]);
  });

  it('is fresh each time: same data and recipient, different bytes (file key, ephemeral keys, nonce prefix)', () => {
    const data = Buffer.from('same');
    const a = encryptBuffer(data, [alice.publicKey]);
    const b = encryptBuffer(data, [alice.publicKey]);
    expect(a.subarray(19 + 8).equals(b.subarray(19 + 8))).toBe(false);
    expect(a.subarray(19 + 8, 19 + 40).equals(b.subarray(19 + 8, 19 + 40))).toBe(false); // ephemeral keys
  });

  it('reads archives of up to 64 recipients', () => {
    const many = Array.from({ length: MAX_RECIPIENTS }, () => generateRecipient());
    const archive = encryptBuffer(Buffer.from('x'), many.map((r) => r.publicKey));
    expect(archive.length).toBe(headerLength(64) + 1 + 16);
    expect(decryptBuffer(archive, many[63]!.identity).toString()).toBe('x');
  });

  it('refuses a header whose ephemeral key is a low-order point (all-zero shared secret)', () => {
    const archive = encryptBuffer(Buffer.from('x'), [alice.publicKey]);
    archive.fill(0, 19 + 8, 19 + 40); // alice's ephemeral public key → 0
    expect(failure(() => decryptBuffer(archive, alice.identity)).code).toBe('CRYPTO_TAMPERED');
  });
});

describe('archive format, decoded independently from its documentation', () => {
  it('matches the documented layout and key schedule', () => {
    const data = randomBytes(CHUNK_BYTES + 10);
    const archive = encryptBuffer(data, [bob.publicKey, alice.publicKey]);
    const hkdf = (ikm: Buffer, salt: Buffer, info: string) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
    const spki = (raw: Buffer) => createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), raw]), format: 'der', type: 'spki' });
    const alicePub = alice.identity.recipient.raw();
    const aliceKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), secretOf(alice)]), format: 'der', type: 'pkcs8' });
    const open = (key: Buffer, nonce: Buffer, sealed: Buffer) => {
      const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
    };

    expect(archive.subarray(0, 18).toString('latin1')).toBe('steward-archive/1\n');
    const n = archive[18]!;
    expect(n).toBe(2);
    const stanza = archive.subarray(19 + 88, 19 + 2 * 88); // alice's is second
    expect(stanza.subarray(0, 8).toString('base64url')).toBe(alice.identity.id);
    const ephPub = stanza.subarray(8, 40);
    const shared = diffieHellman({ privateKey: aliceKey, publicKey: spki(ephPub) });
    const wrapKey = hkdf(shared, Buffer.concat([ephPub, alicePub]), 'steward-archive/1');
    const fileKey = open(wrapKey, Buffer.alloc(12), stanza.subarray(40, 88));
    expect(fileKey).toHaveLength(32);

    const macAt = 19 + n * 88 + 7;
    const prefix = archive.subarray(macAt - 7, macAt);
    const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'steward-archive/1 header')).update(archive.subarray(0, macAt)).digest();
    expect(mac.equals(archive.subarray(macAt, macAt + 32))).toBe(true);

    const payloadKey = hkdf(fileKey, prefix, 'steward-archive/1 payload');
    const nonce = (i: number, last: boolean) => Buffer.concat([prefix, Buffer.from([0, 0, 0, i]), Buffer.from([last ? 1 : 0])]);
    const body = archive.subarray(macAt + 32);
    const c0 = open(payloadKey, nonce(0, false), body.subarray(0, SEALED));
    const c1 = open(payloadKey, nonce(1, true), body.subarray(SEALED));
    expect(Buffer.concat([c0, c1]).equals(data)).toBe(true);
    expect(c1).toHaveLength(10);
  });
});

describe('wrong key', () => {
  it('a writer holding only public keys cannot read what it wrote: another private key fails with CRYPTO_WRONG_KEY', () => {
    // The writer's own key pair (say, the host's) is not a recipient; only the public keys it was given are.
    const writer = generateRecipient();
    const archive = encryptBuffer(Buffer.from('personal data'), [alice.publicKey, bob.publicKey]);
    const e = failure(() => decryptBuffer(archive, writer.identity));
    expect(e.code).toBe('CRYPTO_WRONG_KEY');
    expect(e.exitCode).toBe(ExitCode.Crypto);
    expect(e.message).toBe(`The archive is not encrypted to key ${writer.identity.id} (the given private key): it is for 2 recipients ${alice.identity.id}, ${bob.identity.id}`);
    expect(e.hint).toMatch(/private key of one of those recipients/);
    expect(failure(() => decryptBuffer(encryptBuffer(Buffer.alloc(0), [alice.publicKey]), eve.identity, { name: 'export.stwa' })).message).toMatch(/^export\.stwa is not encrypted to key .*: it is for recipient /);
    for (const form of [...secretForms(writer), ...secretForms(alice), ...secretForms(bob)]) expect(`${e.toUserString()} ${inspect(e)}`).not.toContain(form);
  });

  it('rejects what is not an archive with CRYPTO_NOT_CIPHERTEXT, and a newer format by name', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /is empty, not a Steward archive/],
      [Buffer.from('name,email\nann,ann@example.com\n'), /is not a Steward archive/],
      [Buffer.from('age-encryption.org/v1\n-> X25519 …'), /is not a Steward archive/],
      [Buffer.from('steward-archive/2\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'), /format steward-archive\/2, which this version of Steward cannot read/],
      [Buffer.from('stw1:abc:1:AAAA'), /is not a Steward archive/],
    ];
    for (const [input, message] of cases) {
      const e = failure(() => decryptBuffer(input, alice.identity));
      expect(e.code).toBe('CRYPTO_NOT_CIPHERTEXT');
      expect(e.message).toMatch(message);
    }
    // Rejected on the first wrong byte, before the rest arrives.
    const dec = new ArchiveDecryptor(alice.identity);
    expect(failure(() => dec.update(Buffer.from('PK\x03\x04'))).code).toBe('CRYPTO_NOT_CIPHERTEXT');
  });
});

describe('tampering', () => {
  const data = randomBytes(3 * CHUNK_BYTES + 1000); // 4 chunks: 3 full, 1 short
  const archive = encryptBuffer(data, [alice.publicKey, bob.publicKey]);
  const H = headerLength(2);
  const chunkAt = (i: number) => H + i * SEALED;
  const messages: string[] = [];

  function rejected(bytes: Buffer, code: CryptoError['code'] = 'CRYPTO_TAMPERED'): CryptoError {
    const e = failure(() => decryptBuffer(bytes, alice.identity));
    expect(e.code, e.message).toBe(code);
    expect(e.exitCode).toBe(ExitCode.Crypto);
    messages.push(e.toUserString(), inspect(e));
    return e;
  }
  const flip = (at: number, bit = 0) => {
    const copy = Buffer.from(archive);
    copy[at]! ^= 1 << bit;
    return copy;
  };
  const concat = (...parts: Buffer[]) => Buffer.concat(parts);
  const chunk = (a: Buffer, i: number) => a.subarray(H + i * SEALED, Math.min(a.length, H + (i + 1) * SEALED));

  it('the untouched archive decrypts (control)', () => {
    expect(decryptBuffer(archive, alice.identity).equals(data)).toBe(true);
    expect(archive.length).toBe(H + data.length + 4 * 16);
  });

  it('every bit of the header: magic → not an archive; anything else (count, stanzas, prefix, MAC) → tampered', () => {
    const small = encryptBuffer(Buffer.from('tiny'), [alice.publicKey, bob.publicKey]);
    let notArchive = 0;
    let tampered = 0;
    for (let at = 0; at < H; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(small);
        copy[at]! ^= 1 << bit;
        const e = failure(() => decryptBuffer(copy, alice.identity));
        expect(e.code, `byte ${at} bit ${bit}: ${e.message}`).toBe(at < ARCHIVE_MAGIC.length ? 'CRYPTO_NOT_CIPHERTEXT' : 'CRYPTO_TAMPERED');
        if (at < ARCHIVE_MAGIC.length) notArchive++;
        else tampered++;
      }
    }
    expect(notArchive).toBe(18 * 8);
    expect(tampered).toBe((H - 18) * 8);
  });

  it('names what failed in the header', () => {
    // Alice's stanza is the first (19 … 106), Bob's the second.
    expect(rejected(flip(19 + 8 + 3)).message).toMatch(new RegExp(`has an entry for key ${alice.identity.id} that does not verify`)); // alice's ephemeral key
    expect(rejected(flip(19 + 60)).message).toMatch(/has an entry for key .* that does not verify/); // alice's wrapped key
    expect(rejected(flip(19)).message).toMatch(/header does not verify: it was changed after it was written/); // alice's fingerprint
    expect(rejected(flip(19 + 88 + 10)).message).toMatch(/header does not verify/); // bob's stanza: alice still detects it
    expect(rejected(flip(19 + 88 + 50)).message).toMatch(/header does not verify/);
    expect(rejected(flip(H - 40)).message).toMatch(/header does not verify/); // nonce prefix
    expect(rejected(flip(H - 1, 7)).message).toMatch(/header does not verify/); // MAC
    const zero = Buffer.from(archive);
    zero[18] = 0;
    expect(rejected(zero).message).toMatch(/header lists 0 recipients \(1 to 64 are possible\)/);
  });

  it('a flipped bit in each chunk (first byte, middle, tag) → tampered, naming the chunk', () => {
    for (let i = 0; i < 4; i++) {
      const len = i < 3 ? SEALED : 1000 + 16;
      for (const offset of [0, Math.floor(len / 2), len - 1]) {
        const e = rejected(flip(chunkAt(i) + offset, 3));
        expect(e.message).toMatch(new RegExp(`chunk ${i + 1} \\(archive bytes ${chunkAt(i)}…`));
      }
    }
  });

  it('truncation anywhere → tampered (inside the header, at every chunk boundary, mid-chunk, just the last byte)', () => {
    expect(rejected(archive.subarray(0, 10)).message).toMatch(/ends inside its header \(after 10 bytes\): it was truncated/);
    expect(rejected(archive.subarray(0, H - 1)).message).toMatch(/ends inside its header/);
    expect(rejected(archive.subarray(0, H)).message).toMatch(/ends after its header without its final chunk: it was truncated/);
    for (let i = 1; i <= 3; i++) expect(rejected(archive.subarray(0, chunkAt(i))).message).toMatch(new RegExp(`ends after chunk ${i} .*without its final chunk: it was truncated`));
    expect(rejected(archive.subarray(0, chunkAt(1) + 5)).message).toMatch(/ends 5 bytes after chunk 1 without its final chunk/);
    expect(rejected(archive.subarray(0, chunkAt(2) + 5000)).message).toMatch(/chunk 3 \(archive bytes \d+…\d+\), its last, does not verify: the archive was cut short \(mid-chunk\), changed or appended to/);
    rejected(archive.subarray(0, archive.length - 1));
    rejected(archive.subarray(0, archive.length - 17));
  });

  it('dropping, swapping, duplicating or reordering chunks → tampered', () => {
    const [c0, c1, c2, c3] = [0, 1, 2, 3].map((i) => chunk(archive, i)) as [Buffer, Buffer, Buffer, Buffer];
    const head = archive.subarray(0, H);
    expect(rejected(concat(head, c0, c1, c2)).message).toMatch(/ends after chunk 3 .*without its final chunk: it was truncated/); // last chunk dropped
    rejected(concat(head, c0, c2, c3)); // a middle chunk dropped
    rejected(concat(head, c1, c0, c2, c3)); // two chunks swapped
    rejected(concat(head, c0, c1, c1, c2, c3)); // a chunk duplicated
    rejected(concat(head, c3)); // only the last chunk
    rejected(concat(head, c0, c1, c3, c2)); // last chunk moved
  });

  it('appending → tampered: a chunk, a copy of the last chunk, garbage of any size', () => {
    const last = chunk(archive, 3);
    // A short last chunk and what follows it read as one chunk: it no longer verifies.
    expect(rejected(concat(archive, last)).message).toMatch(/chunk 4 \(archive bytes .*\), its last, does not verify: .* appended to/);
    rejected(concat(archive, chunk(archive, 1)));
    for (const n of [1, 15, 16, 17, 1000, SEALED + 3]) rejected(concat(archive, randomBytes(n)));
    // After a full last chunk too (the decoder cannot see the end until the input ends).
    const full = encryptBuffer(randomBytes(2 * CHUNK_BYTES), [alice.publicKey]);
    expect(failure(() => decryptBuffer(concat(full, Buffer.from('x')), alice.identity)).message).toMatch(/has data after its final chunk \(chunk 2/);
    expect(failure(() => decryptBuffer(concat(full, full.subarray(headerLength(1), headerLength(1) + SEALED)), alice.identity)).message).toMatch(/has data after its final chunk/);
  });

  it('splicing: a header from one archive with chunks of another (same recipients) → tampered', () => {
    const other = encryptBuffer(data, [alice.publicKey, bob.publicKey]);
    rejected(concat(archive.subarray(0, H), other.subarray(H)));
    rejected(concat(archive.subarray(0, chunkAt(2)), other.subarray(chunkAt(2))));
    // An empty archive's header cannot be moved onto another's payload either.
    const empty = encryptBuffer(Buffer.alloc(0), [alice.publicKey, bob.publicKey]);
    rejected(concat(empty.subarray(0, H), archive.subarray(H)));
    rejected(concat(archive.subarray(0, H), empty.subarray(H)));
  });

  it('stops at the first failure and refuses to be used again', () => {
    const dec = new ArchiveDecryptor(alice.identity);
    expect(failure(() => dec.update(flip(chunkAt(0) + 1))).code).toBe('CRYPTO_TAMPERED');
    expect(() => dec.update(Buffer.from('more'))).toThrow(/after an error/);
  });

  it('no message or inspected error holds key material', () => {
    expect(messages.length).toBeGreaterThan(40);
    const all = messages.join('\n');
    for (const form of [...secretForms(alice), ...secretForms(bob)]) expect(all).not.toContain(form);
    expect(all).not.toContain(data.subarray(0, 12).toString('hex'));
  });
});
