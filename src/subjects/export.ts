/**
 * `exportSubject`: an access or portability request's answer as bytes, for `steward
 * subject access`, `steward request run` and application code (a self-service portal):
 * find the person, build the package (access.ts), zip it, and encrypt the zip to age
 * recipients (or leave it plain only when asked: `plaintext: true`). Writes nothing.
 */
import { strToU8, zipSync } from 'fflate';
import type { StewardConfig } from '../config/index.js';
import { UsageError } from '../errors.js';
import type { Source } from '../sources/types.js';
import { buildAccessPackage, type AccessPackage } from './access.js';
import type { SubjectKeyring } from './decrypt.js';
import { findSubject, type FindResult } from './find.js';
import type { Identifier } from './identifiers.js';
import type { SourceSchema, SubjectMap } from './map.js';

export interface ExportOptions {
  readonly config: StewardConfig;
  readonly map: SubjectMap;
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly identifiers: readonly Identifier[];
  readonly keyring?: SubjectKeyring | undefined;
  /** age recipients (`age1…`); default retention.archive.recipients. */
  readonly recipients?: readonly string[] | undefined;
  /** Leave the zip unencrypted when there are no recipients (it holds the person's data). */
  readonly plaintext?: boolean | undefined;
  /** The request case the package answers, named in it. */
  readonly request?: string | undefined;
  readonly now?: Date;
}

export interface ExportResult {
  readonly found: FindResult;
  /** Null when the identifiers match several people (nothing was built). */
  readonly package: AccessPackage | null;
  /** The zip, age-encrypted unless `encrypted` is false; null when ambiguous. */
  readonly bytes: Buffer | null;
  readonly encrypted: boolean;
  readonly recipients: number;
}

/** The recipients a package goes to, or the refusal when there are none and plain text was not asked for. */
export function exportRecipients(config: StewardConfig, recipients: readonly string[] | undefined, plaintext: boolean | undefined): readonly string[] {
  const list = recipients?.length ? recipients : config.retention.archive.recipients;
  if (list.length === 0 && !plaintext) {
    throw new UsageError('the access package would hold personal data in plain text', {
      hint: 'Encrypt it to the person or the team that sends it: --recipient age1… (or retention.archive.recipients in steward.yml), or say --plaintext',
    });
  }
  return list;
}

/** Finds the person and returns their package as bytes (see the top of this file). */
export async function exportSubject(o: ExportOptions): Promise<ExportResult> {
  const recipients = exportRecipients(o.config, o.recipients, o.plaintext);
  const country = o.config.subjects.defaultCountry;
  const found = await findSubject({ map: o.map, schemas: o.schemas, sources: o.sources as Map<string, Source>, identifiers: o.identifiers, ...(o.keyring ? { keyring: o.keyring } : {}), ...(country ? { defaultCountry: country } : {}) });
  if (found.ambiguous) return { found, package: null, bytes: null, encrypted: recipients.length > 0, recipients: recipients.length };
  const now = o.now ?? new Date();
  const pkg = buildAccessPackage({ config: o.config, map: o.map, found, generatedAt: now.toISOString(), ...(o.request ? { request: o.request } : {}) });
  const zip = Buffer.from(zipSync(Object.fromEntries(Object.entries(pkg.files).map(([n, t]) => [n, strToU8(t)])), { level: 6, mtime: now }));
  const bytes = recipients.length > 0 ? await (await import('../archive/age.js')).encryptBuffer(zip, recipients) : zip;
  return { found, package: pkg, bytes, encrypted: recipients.length > 0, recipients: recipients.length };
}
