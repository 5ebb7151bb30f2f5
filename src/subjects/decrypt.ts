/**
 * Reading what Steward encrypted, for a data-subject request: the plaintext of every
 * Steward ciphertext in the rows a request found (for `subject find --json`, the
 * access export, and erasure, which must know the identifiers an encrypted column
 * holds), and the blind indexes an encrypted identifier column is searched by.
 *
 * Which key reads a value comes from the state store's data-key records, which need no
 * master key: a ciphertext `stw1:<keyId>:<version>:…` names its key, and the key's
 * record names the column (source, table spelling, column) it belongs to. A value is
 * decrypted only with the key of its own column and for its own row (the row key is
 * bound into every ciphertext), so a value copied from another row or column never
 * reads as this one. A value that cannot be read is left as it is and reported, with
 * the reason, per source.table.column; it never stops the request.
 *
 * Opening the keyring needs the master key; when there is none (not configured, not
 * set, wrong), a request still runs through plain identifiers and links and says
 * which columns it could not search and which values it could not decrypt.
 */
import type { Keyring, KeyInfo } from '../crypto/keyring.js';
import { createFieldEncryption, type FieldEncryption } from '../crypto/field.js';
import type { BlindIndexer } from '../crypto/blind-index.js';
import { rowKeyOf } from '../crypto/column-migration.js';
import { CIPHERTEXT_PREFIX, keyHeader, parseCiphertext, type ColumnScope, type RowKey } from '../crypto/format.js';
import { CryptoError, isStewardError } from '../errors.js';
import { tablesNamed } from '../sources/table-names.js';
import type { TableInfo } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import type { BlindIndexRef, QualifiedTable } from './map.js';

/** Why a Steward ciphertext was left encrypted. */
export type NotDecryptedReason = 'keyring-unavailable' | 'unknown-key' | 'key-destroyed' | 'does-not-verify';

/** Each reason as a person reads it (the export's summary, the CLI). */
export const NOT_DECRYPTED_TEXT: Readonly<Record<NotDecryptedReason, string>> = {
  'keyring-unavailable': 'the keyring is not available (no master key, or it does not open the keys)',
  'unknown-key': "its key is not in this state store's keyring",
  'key-destroyed': 'its key was destroyed (crypto-shredded): unrecoverable by design',
  'does-not-verify': 'it does not verify: changed, or copied from another row or column',
};

/** The keyring as a request sees it. */
export interface SubjectKeyring {
  /** Data-key records of the state store, without key material: which key id belongs to which column. */
  readonly keys: readonly KeyInfo[];
  /** Field encryption over the open keyring; null when it did not open. */
  readonly fields: FieldEncryption | null;
  /** Why the keyring did not open (a message without secrets); null when it did, or when nothing is encrypted. */
  readonly unavailable: string | null;
}

/** No keyring: every ciphertext is reported `keyring-unavailable`. */
export const NO_KEYRING: SubjectKeyring = { keys: [], fields: null, unavailable: 'no keyring was given' };

/**
 * Reads the data-key records and opens the keyring with `open` only when some column is
 * encrypted (a state store without keys needs no master key). A keyring that does not
 * open (a Steward error: no master key set, a wrong passphrase) gives `fields: null` and
 * the reason; any other failure is thrown.
 */
export async function openSubjectKeyring(store: StateStore, open: () => Promise<Keyring>): Promise<SubjectKeyring> {
  const keys = (await store.keys.listKeys()).map(({ wrapped: _wrapped, ...k }) => k);
  if (!keys.some((k) => k.kind === 'dek')) return { keys, fields: null, unavailable: null };
  try {
    return { keys, fields: createFieldEncryption(await open()), unavailable: null };
  } catch (e) {
    if (!isStewardError(e)) throw e;
    return { keys, fields: null, unavailable: e.message };
  }
}

/** One row read back: the values decrypted, and those that could not be, by column. */
export interface DecryptedValues {
  readonly decrypted: Readonly<Record<string, string>>;
  readonly failed: Readonly<Record<string, NotDecryptedReason>>;
}

/** A row of a table in a source, as a request holds it. */
export interface RowOf extends QualifiedTable {
  readonly row: Readonly<Record<string, unknown>>;
}

/** A decrypted row: the stored row, and what was read of its ciphertexts. */
export type DecryptedRow<R extends RowOf> = R & {
  /** Plaintext of the Steward ciphertexts, by column (absent when none was read). */
  readonly decrypted?: Readonly<Record<string, string>>;
  /** Steward ciphertexts left encrypted, by column, with the reason (absent when none). */
  readonly notDecrypted?: Readonly<Record<string, NotDecryptedReason>>;
};

const textOf = (v: unknown): string | null => (typeof v === 'string' ? v : Buffer.isBuffer(v) && v.subarray(0, CIPHERTEXT_PREFIX.length).toString('latin1') === CIPHERTEXT_PREFIX ? v.toString('utf8') : null);

/**
 * Decrypts the Steward ciphertexts of rows, each with its own column's key and row key.
 * Keeps per column what it learnt (a keyring that cannot unwrap a column's key is asked
 * once). `tables(source)` are the source's tables as introspected (primary keys, and the
 * spellings the key scopes name).
 */
export class SubjectDecryptor {
  readonly #keyring: SubjectKeyring;
  readonly #tables: (source: string) => readonly TableInfo[];
  /** `source\0schema\0table\0column` → the data keys of that physical column. */
  readonly #columnKeys = new Map<string, KeyInfo[]>();
  /** Scopes whose keys do not unwrap: every value of them is `keyring-unavailable` without asking again. */
  readonly #broken = new Set<string>();
  readonly #indexers = new Map<string, Promise<BlindIndexer>>();

  constructor(keyring: SubjectKeyring, tables: (source: string) => readonly TableInfo[]) {
    this.#keyring = keyring;
    this.#tables = tables;
  }

  get available(): boolean {
    return this.#keyring.fields !== null;
  }

  get unavailable(): string | null {
    return this.#keyring.fields ? null : (this.#keyring.unavailable ?? 'no keyring');
  }

  /** The data keys of one physical column (under any spelling of its table). */
  #keysOf(t: QualifiedTable, column: string): KeyInfo[] {
    const id = JSON.stringify([t.source, t.schema, t.name, column]);
    let ks = this.#columnKeys.get(id);
    if (!ks) {
      const tables = this.#tables(t.source);
      ks = this.#keyring.keys.filter((k) => k.kind === 'dek' && k.scope.source === t.source && k.scope.column === column && tablesNamed(tables, k.scope.table).some((x) => x.schema === t.schema && x.name === t.name));
      this.#columnKeys.set(id, ks);
    }
    return ks;
  }

  /** Decrypts the ciphertexts of one row of `t`. */
  async row(t: QualifiedTable, row: Readonly<Record<string, unknown>>): Promise<DecryptedValues> {
    const decrypted: Record<string, string> = {};
    const failed: Record<string, NotDecryptedReason> = {};
    let rowKey: RowKey | undefined;
    for (const [column, raw] of Object.entries(row)) {
      const value = textOf(raw);
      if (value === null || !value.startsWith(CIPHERTEXT_PREFIX)) continue;
      const own = this.#keysOf(t, column);
      const parsed = parseCiphertext(value);
      if ('invalid' in parsed) {
        // `stw1:hello` is plaintext; a value under this column's key id that does not parse was changed.
        if (own.some((k) => value.startsWith(keyHeader(k.keyId)))) failed[column] = 'does-not-verify';
        continue;
      }
      const key = own.find((k) => k.keyId === parsed.keyId);
      if (!key) {
        // Another column's key: copied here (it would not verify for this place); no key at all: not ours to read.
        failed[column] = this.#keyring.keys.some((k) => k.keyId === parsed.keyId) ? 'does-not-verify' : 'unknown-key';
        continue;
      }
      const scope: ColumnScope = key.scope;
      const scopeId = JSON.stringify([scope.source, scope.table, scope.column]);
      const fields = this.#keyring.fields;
      if (!fields || this.#broken.has(scopeId)) {
        failed[column] = 'keyring-unavailable';
        continue;
      }
      if (rowKey === undefined) {
        const pk = this.#tables(t.source).find((x) => x.schema === t.schema && x.name === t.name)?.primaryKey ?? [];
        if (pk.length === 0 || pk.some((k) => row[k] === null || row[k] === undefined)) {
          failed[column] = 'does-not-verify';
          continue;
        }
        rowKey = rowKeyOf(pk.map((k) => row[k]));
      }
      try {
        decrypted[column] = await fields.decrypt(value, { ...scope, rowKey });
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e;
        const reason = reasonOf(e);
        if (reason === 'keyring-unavailable') this.#broken.add(scopeId);
        failed[column] = reason;
      }
    }
    return { decrypted, failed };
  }

  /**
   * A new value for an encrypted column of one row (rectification): its ciphertext under the
   * column's key, bound to the row's key like `steward encrypt` binds it, and its blind index
   * when the column has one (column → value). Throws a CryptoError when the keyring is not open.
   */
  async encryptFor(t: QualifiedTable, column: string, key: Readonly<Record<string, unknown>>, value: string, blindIndex?: (Omit<BlindIndexRef, 'indexed'> & { readonly indexed?: boolean | null }) | null): Promise<Record<string, unknown>> {
    const fields = this.#keyring.fields;
    if (!fields) throw new CryptoError('CRYPTO_MASTER_KEY', `the keyring is not open (${this.unavailable}): ${t.name}.${column} cannot be encrypted`, { hint: 'Set the master key (encryption.masterKey in steward.yml)' });
    const own = this.#keysOf(t, column);
    if (own.length === 0) throw new CryptoError('CRYPTO_UNKNOWN_KEY_VERSION', `no data key of ${t.name}.${column} is in this state store's keyring`, { hint: 'Encrypt the column with `steward encrypt` first, or correct it while it is in plain text' });
    const pk = this.#tables(t.source).find((x) => x.schema === t.schema && x.name === t.name)?.primaryKey ?? [];
    const out: Record<string, unknown> = { [column]: await fields.encrypt(value, { ...own[0]!.scope, rowKey: rowKeyOf(pk.map((k) => key[k])) }) };
    if (blindIndex) {
      const ix = await this.indexer(t, column, { ...blindIndex, indexed: blindIndex.indexed ?? null });
      if ('unavailable' in ix) throw new CryptoError('CRYPTO_MASTER_KEY', `the blind index of ${t.name}.${column} cannot be computed: ${ix.unavailable}`, { hint: 'Open the keyring that holds its blind-index key' });
      out[blindIndex.column] = ix.index(value);
    }
    return out;
  }

  /**
   * The blind indexer of an encrypted column, or why there is none: the keyring is not
   * open, or its blind-index key does not unwrap. Never creates a key (a lookup must not
   * write to the keyring): the map lists a blind index only when its key exists.
   */
  async indexer(t: QualifiedTable, column: string, b: BlindIndexRef): Promise<BlindIndexer | { readonly unavailable: string }> {
    const fields = this.#keyring.fields;
    if (!fields) return { unavailable: this.unavailable ?? 'no keyring' };
    const scope: ColumnScope = { source: t.source, table: b.scopeTable, column };
    if (!this.#keyring.keys.some((k) => k.kind === 'bidx' && k.state !== 'destroyed' && k.scope.source === scope.source && k.scope.table === scope.table && k.scope.column === scope.column)) {
      return { unavailable: `its blind-index key is not in this state store's keyring` };
    }
    const id = JSON.stringify([scope.source, scope.table, scope.column, b.normalize, b.bytes]);
    let p = this.#indexers.get(id);
    if (!p) {
      p = fields.blindIndexer(scope, { normalize: b.normalize, bytes: b.bytes });
      this.#indexers.set(id, p);
    }
    try {
      return await p;
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      return { unavailable: e.message };
    }
  }
}

function reasonOf(e: CryptoError): NotDecryptedReason {
  switch (e.code) {
    case 'CRYPTO_KEY_DESTROYED':
      return 'key-destroyed';
    case 'CRYPTO_UNKNOWN_KEY_VERSION':
      return 'unknown-key';
    case 'CRYPTO_TAMPERED':
    case 'CRYPTO_NOT_CIPHERTEXT':
      return 'does-not-verify';
    default:
      // CRYPTO_WRONG_KEY, CRYPTO_MASTER_KEY, a KMS that refuses: the keys do not unwrap.
      return 'keyring-unavailable';
  }
}

/**
 * Decrypts the rows a request found (any path: identifier, link, key). Erasure and
 * correction use it to read the plaintext of encrypted identifiers. Rows without
 * ciphertexts come back unchanged.
 */
export async function decryptSubjectRows<R extends RowOf>(rows: readonly R[], decryptor: SubjectDecryptor): Promise<DecryptedRow<R>[]> {
  const out: DecryptedRow<R>[] = [];
  for (const r of rows) {
    const { decrypted, failed } = await decryptor.row(r, r.row);
    out.push({ ...r, ...(Object.keys(decrypted).length ? { decrypted } : {}), ...(Object.keys(failed).length ? { notDecrypted: failed } : {}) });
  }
  return out;
}

/** One line of the "not decrypted" report. */
export interface NotDecryptedEntry {
  readonly source: string;
  /** `schema.table`. */
  readonly table: string;
  readonly column: string;
  readonly rows: number;
  readonly reason: NotDecryptedReason;
}

/** Per source.table.column and reason, how many rows kept a ciphertext. Pure. */
export function notDecryptedSummary(rows: readonly Pick<DecryptedRow<RowOf>, 'source' | 'schema' | 'name' | 'notDecrypted'>[]): NotDecryptedEntry[] {
  const out = new Map<string, { source: string; table: string; column: string; rows: number; reason: NotDecryptedReason }>();
  for (const r of rows) {
    for (const [column, reason] of Object.entries(r.notDecrypted ?? {})) {
      const k = JSON.stringify([r.source, r.schema, r.name, column, reason]);
      const e = out.get(k) ?? { source: r.source, table: `${r.schema}.${r.name}`, column, rows: 0, reason };
      e.rows++;
      out.set(k, e);
    }
  }
  return [...out.values()];
}
