/**
 * `steward request open|list|show|verify|add-identifier|refuse|extend|run|purge`:
 * data-subject request cases. Thin: the work is in src/subjects/cases.ts (the
 * operations), src/subjects/requests.ts (deadlines, states) and
 * src/subjects/request-steps.ts (the steps `run` runs). `list`, `run` and
 * `purge` first crypto-shred the identifiers of cases closed long enough ago.
 * Nothing prints an identifier but `show`, masked, when the keyring opens.
 */
import path from 'node:path';
import pc from 'picocolors';
import { runAudit } from '../../../audit/run-audit.js';
import { openKeyring, type Keyring } from '../../../crypto/keyring.js';
import { loadConfig, type LoadedConfig } from '../../../config/index.js';
import { ExitCode, isStewardError, UsageError } from '../../../errors.js';
import { checkWritable } from '../../../files.js';
import { shellCommand } from '../../../shell.js';
import { openSource, type Source } from '../../../sources/index.js';
import { currentActor } from '../../../state/audit-history.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import type { StoredRequestStep } from '../../../state/requests.js';
import {
  addRequestIdentifiers,
  extendRequest,
  getRequest,
  listRequests,
  openRequest,
  refuseRequest,
  RequestStepError,
  runRequest,
  shredRequests,
  verifyRequest,
  type RequestCase,
  type RequestCaseDetail,
  type RunRequestResult,
} from '../../../subjects/cases.js';
import { discoverSubjectMap } from '../../../subjects/discover.js';
import { parseIdentifiers, type IdentifierInput } from '../../../subjects/identifiers.js';
import { parseSet } from '../../../subjects/correct.js';
import { openSubjectKeyring } from '../../../subjects/decrypt.js';
import { accessRecipients, subjectRequestSteps, type SubjectContext } from '../../../subjects/request-steps.js';
import { assertTransition, daysLeftText, parseRequestKind, REQUEST_STATES, type RequestState } from '../../../subjects/requests.js';
import { displayWidth, padEnd } from '../../reports/text.js';
import { masterKeySource } from './encrypt.js';
import { shown, stringifyJson, useColor, type Io } from '../output.js';

interface Common {
  readonly config?: string;
  readonly json?: boolean;
  readonly color?: boolean;
  /** The clock (tests). */
  readonly now?: () => Date;
}

export interface RequestOpenOptions extends Common, IdentifierInput {
  readonly kind?: string;
  readonly received?: string;
  readonly jurisdiction?: string;
  readonly verifiedBy?: string;
  readonly verificationMethod?: string;
}
export interface RequestListOptions extends Common, IdentifierInput {
  readonly state?: readonly string[];
}
export interface RequestVerifyOptions extends Common {
  readonly method?: string;
  readonly by?: string;
}
export interface RequestReasonOptions extends Common {
  readonly reason?: string;
}
export type RequestIdentifierOptions = Common & IdentifierInput;
export interface RequestRunOptions extends Common {
  readonly out?: string;
  /** Rectification cases: CATEGORY=VALUE. */
  readonly set?: string;
  readonly recipient?: readonly string[];
  readonly plaintext?: boolean;
}

interface Ctx {
  readonly loaded: LoadedConfig;
  readonly store: StateStore;
  readonly now: Date;
  readonly actor: string;
}

async function withStore<T>(options: Common, io: Io, fn: (ctx: Ctx) => Promise<T>, deferSourceUrls = true): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env, deferSourceUrls });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    return await fn({ loaded, store, now: options.now?.() ?? new Date(), actor: currentActor() });
  } finally {
    await store.close();
  }
}

const keyringOf = async (ctx: Ctx, io: Io): Promise<Keyring> => openKeyring({ store: ctx.store, master: await masterKeySource(ctx.loaded.config, ctx.loaded.dir, io.env) });
const settingsOf = (ctx: Ctx) => ctx.loaded.config.subjects.requests;
const country = (ctx: Ctx) => (ctx.loaded.config.subjects.defaultCountry ? { defaultCountry: ctx.loaded.config.subjects.defaultCountry as never } : {});
const hasIdentifiers = (o: IdentifierInput) => Boolean(o.email?.length || o.phone?.length || o.nationalId?.length || o.id?.length);
const kindsText = (k: Readonly<Record<string, number>>) => Object.entries(k).map(([kind, n]) => `${n} ${kind}`).join(', ') || 'none';
const day = (iso: string | null | undefined) => (iso ?? '').slice(0, 10);
const minute = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '');

/** The closed cases whose shred time has come: shredded before anything else is shown or run. */
async function shredDue(ctx: Ctx, io: Io, quiet: boolean): Promise<string[]> {
  const ids = await shredRequests({ store: ctx.store, now: ctx.now, actor: ctx.actor });
  if (ids.length && !quiet) io.stderr.write(`steward: crypto-shredded the identifiers of ${ids.length} closed case(s): ${ids.join(', ')}\n`);
  return ids;
}

function deadlineText(r: RequestCase, c: ReturnType<typeof pc.createColors>): string {
  if (r.deadline.status === 'closed') return '';
  const text = daysLeftText(r.deadline.daysLeft);
  return r.deadline.status === 'overdue' ? c.red(text) : r.deadline.status === 'due-soon' ? c.yellow(text) : text;
}

/** `steward request open`. */
export async function requestOpen(options: RequestOpenOptions, io: Io): Promise<number> {
  const kind = parseRequestKind(options.kind);
  return withStore(options, io, async (ctx) => {
    const identifiers = parseIdentifiers(options, country(ctx));
    if (options.verificationMethod !== undefined && options.verifiedBy === undefined) throw new UsageError('--verification-method needs --verified-by', { hint: 'Say who checked the identity: --verified-by "support: Sam"' });
    const keyring = await keyringOf(ctx, io);
    const { request, related } = await openRequest({
      store: ctx.store,
      keyring,
      kind,
      identifiers,
      ...(options.received !== undefined ? { received: options.received } : {}),
      ...(options.jurisdiction !== undefined ? { jurisdiction: options.jurisdiction } : {}),
      ...(options.verifiedBy !== undefined ? { verification: { by: options.verifiedBy, ...(options.verificationMethod !== undefined ? { method: options.verificationMethod } : {}) } } : {}),
      settings: settingsOf(ctx),
      actor: ctx.actor,
      now: ctx.now,
    });
    if (options.json) {
      io.stdout.write(`${stringifyJson({ request, related }, 2)}\n`);
      return ExitCode.Ok;
    }
    const c = pc.createColors(useColor(io, options.color));
    io.stdout.write(`${c.bold(request.id)} opened: ${request.kind} request (${request.jurisdiction}), received ${request.receivedOn}, due ${request.dueOn} (${daysLeftText(request.deadline.daysLeft)}); identifiers (${kindsText(request.identifierKinds)}) kept encrypted.\n`);
    if (request.state === 'verified') io.stdout.write(`  Verified by ${shown(request.verification?.by)}. Next: ${shellCommand('steward', 'request', 'run', request.id)}\n`);
    else io.stdout.write(`  Not verified yet. Next: ${shellCommand('steward', 'request', 'verify', request.id, '--method', '…', '--by', '…')}\n`);
    if (related.length) io.stdout.write(c.yellow(`  ${related.length} other case(s) hold one of these identifiers: ${related.join(', ')}\n`));
    return ExitCode.Ok;
  });
}

/** `steward request list`: every case with its deadline and state, never an identifier. */
export async function requestList(options: RequestListOptions, io: Io): Promise<number> {
  const states = (options.state ?? []).map((s) => {
    if (!(REQUEST_STATES as readonly string[]).includes(s)) throw new UsageError(`--state "${s}" is not a state of a request`, { hint: `States: ${REQUEST_STATES.join(', ')}` });
    return s as RequestState;
  });
  return withStore(options, io, async (ctx) => {
    await shredDue(ctx, io, Boolean(options.json));
    const byIdentifier = hasIdentifiers(options) ? { keyring: await keyringOf(ctx, io), values: parseIdentifiers(options, country(ctx)) } : undefined;
    const cases = await listRequests({ store: ctx.store, now: ctx.now, settings: settingsOf(ctx), ...(states.length ? { states } : {}), ...(byIdentifier ? { identifiers: byIdentifier } : {}) });
    if (options.json) {
      io.stdout.write(`${stringifyJson({ requests: cases }, 2)}\n`);
      return ExitCode.Ok;
    }
    if (cases.length === 0) {
      io.stdout.write(`No request cases${states.length || byIdentifier ? ' match' : ' yet: open one with `steward request open --kind access --email …`'}.\n`);
      return ExitCode.Ok;
    }
    const c = pc.createColors(useColor(io, options.color));
    const header = ['ID', 'KIND', 'STATE', 'RECEIVED', 'DUE', 'JURISDICTION', ''];
    const rows = cases.map((r) => [
      r.id,
      r.kind,
      `${r.state}${r.extension && r.deadline.status !== 'closed' ? ' (extended)' : ''}${r.shreddedAt ? ' (shredded)' : ''}`,
      r.receivedOn,
      r.dueOn,
      shown(r.jurisdiction),
      r.deadline.status === 'closed' ? `closed ${day(r.closedAt)}${r.outcome === 'no-data' ? ', no data found' : ''}` : deadlineText(r, c),
    ]);
    const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((row) => displayWidth(row[i]!))));
    io.stdout.write(`${c.bold(header.map((h, i) => padEnd(h, widths[i]!)).join('  ').trimEnd())}\n`);
    for (const row of rows) io.stdout.write(`${row.map((x, i) => (i === row.length - 1 ? x : padEnd(x, widths[i]!))).join('  ').trimEnd()}\n`);
    const late = cases.filter((r) => r.deadline.status === 'overdue').length;
    const soon = cases.filter((r) => r.deadline.status === 'due-soon').length;
    if (late || soon) io.stdout.write(`\n${late ? c.red(`${late} overdue`) : ''}${late && soon ? ', ' : ''}${soon ? c.yellow(`${soon} due within ${settingsOf(ctx).dueSoonDays} days`) : ''}.\n`);
    return ExitCode.Ok;
  });
}

function stepLine(s: StoredRequestStep): string {
  const counts = Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ');
  const details = Object.entries(s.details).map(([k, v]) => `${k} ${shown(v)}`).join(', ');
  const what = s.errorCode ? `${shown(s.errorCode)}: ${shown(s.errorMessage ?? '')}` : [s.outcome === 'no-data' ? 'no data found' : s.outcome, counts, details].filter(Boolean).join(' · ');
  return `  ${String(s.seq).padStart(2)} ${padEnd(s.step, 7)} ${padEnd(s.status, 11)} ${minute(s.startedAt)}  ${what}`;
}

function renderDetail(r: RequestCaseDetail, keyringNote: string | null, c: ReturnType<typeof pc.createColors>): string {
  const out: string[] = [c.bold(`${r.id} · ${r.kind} · ${shown(r.jurisdiction)} · ${r.state}`)];
  const left = deadlineText(r, c);
  out.push(`  received     ${r.receivedOn} · due ${r.dueOn}${left ? ` (${left})` : ''}${r.extension ? ` · extended from ${r.originalDueOn} on ${day(r.extension.at)} by ${shown(r.extension.by)}: ${shown(r.extension.reason)}` : ''}`);
  out.push(`  verified     ${r.verification ? `by ${shown(r.verification.by)} (${shown(r.verification.method)}) at ${minute(r.verification.at)}` : c.yellow('not yet')}`);
  const ids = r.shreddedAt ? `crypto-shredded at ${minute(r.shreddedAt)}` : r.identifiers ? r.identifiers.map(shown).join(', ') : `encrypted${keyringNote ? ` (${keyringNote})` : ''}`;
  out.push(`  identifiers  ${kindsText(r.identifierKinds)}: ${ids}`);
  out.push(`  opened       ${minute(r.openedAt)} by ${shown(r.openedBy)}`);
  if (r.closedAt) out.push(`  closed       ${minute(r.closedAt)}${r.refusalReason ? ` · refused: ${shown(r.refusalReason)}` : r.outcome === 'no-data' ? ' · no data found' : ''}${r.shredDueAt && !r.shreddedAt ? ` · identifiers shredded from ${minute(r.shredDueAt)}` : ''}`);
  if (r.steps.length) {
    out.push('  steps');
    for (const s of r.steps) out.push(stepLine(s));
  }
  return `${out.join('\n')}\n`;
}

/** `steward request show ID`: the case, its steps, and its identifiers masked when the keyring opens. */
export async function requestShow(id: string, options: Common, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    let keyring: Keyring | undefined;
    let note: string | null = null;
    try {
      keyring = await keyringOf(ctx, io);
    } catch (e) {
      if (!isStewardError(e)) throw e;
      note = 'open the keyring (encryption.masterKey) to see them masked';
    }
    const detail = await getRequest({ store: ctx.store, id, now: ctx.now, settings: settingsOf(ctx), ...(keyring ? { keyring } : {}) });
    if (options.json) {
      io.stdout.write(`${stringifyJson({ request: detail }, 2)}\n`);
      return ExitCode.Ok;
    }
    io.stdout.write(renderDetail(detail, note, pc.createColors(useColor(io, options.color))));
    return ExitCode.Ok;
  });
}

function changed(r: RequestCase, what: string, options: Common, io: Io): number {
  if (options.json) io.stdout.write(`${stringifyJson({ request: r }, 2)}\n`);
  else io.stdout.write(`${r.id} ${what}.\n`);
  return ExitCode.Ok;
}

/** `steward request verify ID --method … --by …`. */
export async function requestVerify(id: string, options: RequestVerifyOptions, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    const r = await verifyRequest({ store: ctx.store, id, method: options.method ?? '', by: options.by ?? '', now: ctx.now, actor: ctx.actor, settings: settingsOf(ctx) });
    return changed(r, `verified; run it with ${shellCommand('steward', 'request', 'run', r.id)}`, options, io);
  });
}

/** `steward request add-identifier ID --email …`. */
export async function requestAddIdentifier(id: string, options: RequestIdentifierOptions, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    const identifiers = parseIdentifiers(options, country(ctx));
    const r = await addRequestIdentifiers({ store: ctx.store, keyring: await keyringOf(ctx, io), id, identifiers, now: ctx.now, actor: ctx.actor, settings: settingsOf(ctx) });
    return changed(r, `now holds ${kindsText(r.identifierKinds)} identifier(s); its steps run again with them: ${shellCommand('steward', 'request', 'run', r.id)}`, options, io);
  });
}

/** `steward request refuse ID --reason …`. */
export async function requestRefuse(id: string, options: RequestReasonOptions, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    const r = await refuseRequest({ store: ctx.store, id, reason: options.reason ?? '', now: ctx.now, actor: ctx.actor, settings: settingsOf(ctx) });
    return changed(r, `refused; its identifiers are crypto-shredded from ${minute(r.shredDueAt)}`, options, io);
  });
}

/** `steward request extend ID --reason …`. */
export async function requestExtend(id: string, options: RequestReasonOptions, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    const r = await extendRequest({ store: ctx.store, id, reason: options.reason ?? '', now: ctx.now, actor: ctx.actor, settings: settingsOf(ctx) });
    return changed(r, `extended: now due ${r.dueOn} (${daysLeftText(r.deadline.daysLeft)}); tell the requester, with the reason, before ${r.originalDueOn}`, options, io);
  });
}

/** `steward request purge [ID…]`: crypto-shred closed cases whose time has come, or the named closed cases now. */
export async function requestPurge(ids: readonly string[], options: Common, io: Io): Promise<number> {
  return withStore(options, io, async (ctx) => {
    const shredded = ids.length ? await shredRequests({ store: ctx.store, ids, now: ctx.now, actor: ctx.actor }) : await shredDue(ctx, io, true);
    if (options.json) io.stdout.write(`${stringifyJson({ shredded }, 2)}\n`);
    else io.stdout.write(shredded.length ? `Crypto-shredded the identifiers of ${shredded.join(', ')}: their data keys are destroyed; the cases and their evidence stay.\n` : 'No closed case is due for shredding.\n');
    return ExitCode.Ok;
  });
}

/** Opens every source of steward.yml read-only and derives the subject map (the find and access steps' context). */
async function openSubjects(loaded: LoadedConfig, store: StateStore, opened: Map<string, Source>, writable = false): Promise<SubjectContext> {
  for (const cfg of loaded.config.sources) {
    if (!opened.has(cfg.name)) opened.set(cfg.name, await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { readonly: !writable, command: 'subject' }));
  }
  const discovered = await discoverSubjectMap({
    config: loaded.config,
    sources: opened,
    store,
    freshInventory: async (name) => {
      const report = await runAudit({ config: loaded.config, patterns: loaded.patterns, stage: 'collection', sources: [name], openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }) });
      return report.sources.flatMap((s) => s.inventory);
    },
  });
  return { map: discovered.map, schemas: discovered.schemas, sources: opened };
}

function renderRun(r: RunRequestResult, c: ReturnType<typeof pc.createColors>): string {
  const out: string[] = [];
  for (const s of r.ran) {
    const counts = Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    const file = typeof s.details.file === 'string' ? ` · wrote ${shown(s.details.file)}${s.details.encrypted ? ' (age-encrypted)' : ' (NOT encrypted)'}` : '';
    const outcome = s.outcome === 'no-data' ? 'no data found' : s.outcome === s.status ? '' : (s.outcome ?? '');
    out.push(`  ${padEnd(s.step, 7)} ${padEnd(s.status, 10)} ${[outcome, counts].filter(Boolean).join(' · ')}${file}`);
  }
  const id = r.request.id;
  if (r.status === 'already-completed') out.push(`${id} was already completed on ${day(r.request.closedAt)}: nothing to run.`);
  else if (r.status === 'awaiting-identifier') {
    out.push(c.yellow(c.bold(`${id} waits for an identifier: the ones given match more than one person, and nothing was done for either.`)));
    out.push(`  Ask the requester for one more, then: ${shellCommand('steward', 'request', 'add-identifier', id, '--email', '…')} and run it again.`);
  } else out.push(c.bold(`${id} completed${r.request.outcome === 'no-data' ? ': no data found (a valid answer, recorded)' : ''}.`) + ` Identifiers are crypto-shredded from ${minute(r.request.shredDueAt)}.`);
  return `${out.join('\n')}\n`;
}

/**
 * `steward request run ID`: runs the case's steps, resumable. Exit 0 completed,
 * 1 waiting for an identifier (ambiguous), 2 not verified, the step's error's
 * code when a step failed (4: a source was down; the case stays in progress).
 */
export async function requestRun(id: string, options: RequestRunOptions, io: Io): Promise<number> {
  const out = options.out ? checkWritable(options.out, io.cwd, '--out') : undefined;
  return withStore(
    options,
    io,
    async (ctx) => {
      await shredDue(ctx, io, Boolean(options.json));
      const current = await getRequest({ store: ctx.store, id, now: ctx.now, settings: settingsOf(ctx) });
      // An unverified (or waiting, or refused) case is refused first, whatever else is missing.
      assertTransition((await ctx.store.requests.get(current.id))!, 'run', ctx.now);
      // Before any step: an access package needs recipients (or --plaintext said explicitly).
      const recipients = current.kind === 'access' && current.state !== 'completed' ? accessRecipients(ctx.loaded.config, options.recipient, options.plaintext) : (options.recipient ?? []);
      const set = current.kind === 'rectification' && options.set ? parseSet(options.set, ctx.loaded.config.subjects.defaultCountry) : undefined;
      const keyring = await keyringOf(ctx, io);
      const sources = new Map<string, Source>();
      const dir = path.resolve(ctx.loaded.dir, settingsOf(ctx).dir);
      const steps = subjectRequestSteps({
        config: ctx.loaded.config,
        // Erasure and rectification write: only their cases open the sources writable.
        context: () => openSubjects(ctx.loaded, ctx.store, sources, current.kind === 'erasure' || current.kind === 'rectification'),
        store: ctx.store,
        actor: ctx.actor,
        keyring: await openSubjectKeyring(ctx.store, async () => keyring),
        ...(set ? { set } : {}),
        accessOut: (caseId, encrypted) => out ?? path.join(dir, `${caseId}-access.zip${encrypted ? '.age' : ''}`),
        recipients,
        ...(options.plaintext ? { plaintext: true } : {}),
      });
      const c = pc.createColors(useColor(io, options.color));
      try {
        const result = await runRequest({ store: ctx.store, keyring, id: current.id, steps, actor: ctx.actor, settings: settingsOf(ctx), ...(options.now ? { clock: options.now } : {}) });
        if (options.json) io.stdout.write(`${stringifyJson(result, 2)}\n`);
        else io.stdout.write(renderRun(result, c));
        return result.status === 'awaiting-identifier' ? ExitCode.Findings : ExitCode.Ok;
      } catch (e) {
        if (e instanceof RequestStepError && !options.json) io.stderr.write(`steward: ${e.caseId} stays in progress: its ${e.step} step failed and is recorded with the case.\n`);
        throw e;
      } finally {
        for (const s of sources.values()) await s.close().catch(() => undefined);
      }
    },
    false,
  );
}
