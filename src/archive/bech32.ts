/**
 * Bech32 (BIP 173), the text form of age keys: `age1…` recipients and
 * `AGE-SECRET-KEY-1…` identities. As age does, without BIP 173's 90-character
 * limit; one case per string (age writes identities in upper case).
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function expandPrefix(prefix: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) & 31);
  return out;
}

/** Regroups bits: 8 → 5 (pad) or 5 → 8 (no padding allowed beyond 4 zero bits). */
function convert(data: Uint8Array | readonly number[], from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return null;
  }
  return out;
}

/** `prefix` (lower case) + `1` + data + checksum, in lower case. */
export function bech32Encode(prefix: string, data: Uint8Array): string {
  const words = convert(data, 8, 5, true)!;
  const chk = polymod([...expandPrefix(prefix), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (chk >>> (5 * (5 - i))) & 31);
  return `${prefix}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/**
 * The prefix (lower case) and bytes of a Bech32 string, or why not: `shape`
 * (mixed case, no separator, a character outside the alphabet, bad padding) or
 * `checksum` (a mistyped, dropped or swapped character).
 */
export function bech32Decode(text: string): { prefix: string; bytes: Buffer } | 'shape' | 'checksum' {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return 'shape';
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || s.length - sep - 1 < 6) return 'shape';
  const prefix = s.slice(0, sep);
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 33 || c > 126) return 'shape';
  }
  const words: number[] = [];
  for (const ch of s.slice(sep + 1)) {
    const w = CHARSET.indexOf(ch);
    if (w < 0) return 'shape';
    words.push(w);
  }
  if (polymod([...expandPrefix(prefix), ...words]) !== 1) return 'checksum';
  const bytes = convert(words.slice(0, -6), 5, 8, false);
  if (bytes === null) return 'shape';
  return { prefix, bytes: Buffer.from(bytes) };
}
