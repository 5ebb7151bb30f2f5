/**
 * Request cases, the pure part: kinds and their CCPA names, jurisdictions and
 * their legal deadlines (calendar arithmetic in UTC, month ends clamped), which
 * state changes are legal (and the message and fix for those that are not), the
 * steps each kind runs, deadline classification (overdue, due soon) and the audit
 * findings it gives. No I/O: storage is src/state/requests.ts, the operations
 * (open, verify, run, …) are src/subjects/cases.ts.
 *
 * Dates are calendar dates (`YYYY-MM-DD`) in UTC. A deadline is the last day on
 * which the answer is in time: received 2026-01-31 under GDPR (one month) is due
 * 2026-02-28; the case is overdue from the day after.
 */
import { randomBytes } from 'node:crypto';
import { addDuration, parseIsoDuration, type IsoDuration } from '../audit/schedule.js';
import { findingId, type DraftFinding } from '../audit/collection-review.js';
import { UsageError } from '../errors.js';
import { shellCommand } from '../shell.js';

// ---- kinds

export type RequestKind = 'access' | 'erasure' | 'rectification' | 'find';
export const REQUEST_KINDS: readonly RequestKind[] = ['access', 'erasure', 'rectification', 'find'];

/** Other names a request goes by: CCPA/CPRA's (know, delete, correct) and GDPR articles' (portability is answered with the access package). */
export const REQUEST_KIND_ALIASES: Readonly<Record<string, RequestKind>> = {
  know: 'access',
  portability: 'access',
  delete: 'erasure',
  erase: 'erasure',
  correct: 'rectification',
  rectify: 'rectification',
};

/** `--kind`: a kind or one of its aliases, case-insensitive. */
export function parseRequestKind(text: string | undefined): RequestKind {
  const t = (text ?? '').trim().toLowerCase();
  if ((REQUEST_KINDS as readonly string[]).includes(t)) return t as RequestKind;
  const alias = REQUEST_KIND_ALIASES[t];
  if (alias) return alias;
  throw new UsageError(t === '' ? '--kind is required' : `--kind "${text}" is not a kind of request`, {
    hint: `Use one of ${REQUEST_KINDS.join(', ')} (CCPA names: know, delete, correct)`,
  });
}

/** The steps a kind runs, in order. `find` first: it records what is held, and stops an ambiguous request before anything else runs. */
export type RequestStepName = 'find' | 'access' | 'erase' | 'correct';
export const STEPS_BY_KIND: Readonly<Record<RequestKind, readonly RequestStepName[]>> = {
  find: ['find'],
  access: ['find', 'access'],
  erasure: ['find', 'erase'],
  rectification: ['find', 'correct'],
};

// ---- jurisdictions and deadlines

export interface Jurisdiction {
  readonly name: string;
  /** ISO-8601 duration from receipt (`P1M`, `P45D`). */
  readonly respondWithin: string;
  /** How much longer an extension allows, counted from receipt together with respondWithin (`P2M`; `P0D`: none). */
  readonly extendBy: string;
  /** For messages: where the rule comes from. */
  readonly label: string;
}

/** The deadlines Steward knows without configuration. steward.yml may override them or add others. */
export const BUILTIN_JURISDICTIONS: Readonly<Record<string, Jurisdiction>> = {
  gdpr: { name: 'gdpr', respondWithin: 'P1M', extendBy: 'P2M', label: 'GDPR Art. 12(3)' },
  ccpa: { name: 'ccpa', respondWithin: 'P45D', extendBy: 'P45D', label: 'CCPA §1798.130(a)(2)' },
};

/** What steward.yml says about request cases (`subjects.requests`). */
export interface RequestSettings {
  readonly defaultJurisdiction: string;
  readonly jurisdictions: Readonly<Record<string, { readonly respondWithin: string; readonly extendBy: string; readonly label?: string | undefined }>>;
  /** Open requests this many days (or fewer) before their deadline are due soon. */
  readonly dueSoonDays: number;
  /** How long after a case is closed its identifiers are crypto-shredded. */
  readonly shredAfter: string;
}

export const DEFAULT_REQUEST_SETTINGS: RequestSettings = { defaultJurisdiction: 'gdpr', jurisdictions: {}, dueSoonDays: 7, shredAfter: 'P30D' };

/** Built-in jurisdictions with steward.yml's on top. */
export function jurisdictions(settings: Pick<RequestSettings, 'jurisdictions'>): Record<string, Jurisdiction> {
  const out: Record<string, Jurisdiction> = { ...BUILTIN_JURISDICTIONS };
  for (const [name, j] of Object.entries(settings.jurisdictions)) {
    out[name] = { name, respondWithin: j.respondWithin, extendBy: j.extendBy, label: j.label ?? BUILTIN_JURISDICTIONS[name]?.label ?? `subjects.requests.jurisdictions.${name}` };
  }
  return out;
}

/** `--jurisdiction`, or the default; refuses one that neither Steward nor steward.yml defines. */
export function resolveJurisdiction(settings: Pick<RequestSettings, 'jurisdictions' | 'defaultJurisdiction'>, name?: string): Jurisdiction {
  const all = jurisdictions(settings);
  const wanted = (name ?? settings.defaultJurisdiction).trim().toLowerCase();
  const j = all[wanted];
  if (!j) {
    throw new UsageError(`${name === undefined ? 'subjects.requests.defaultJurisdiction' : '--jurisdiction'} "${name ?? settings.defaultJurisdiction}" is not a jurisdiction Steward knows`, {
      hint: `Use one of ${Object.keys(all).sort().join(', ')}, or define it under subjects.requests.jurisdictions in steward.yml (respondWithin, extendBy)`,
    });
  }
  return j;
}

/** A calendar-date duration (`P1M`, `P45D`, `P1M15D`); null for anything else (a time part, garbage). */
export function parseDateDuration(text: string): IsoDuration | null {
  const d = parseIsoDuration(text);
  if (!d || d.hours || d.minutes || d.seconds) return null;
  return d;
}

function durationOf(text: string, what: string): IsoDuration {
  const d = parseDateDuration(text);
  if (!d) throw new UsageError(`${what} "${text}" is not a duration in days, weeks, months or years`, { hint: 'Write an ISO-8601 duration such as P1M, P45D or P2M' });
  return d;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Midnight UTC of a valid `YYYY-MM-DD`, or null. */
function dateValue(text: string): Date | null {
  if (!DATE.test(text)) return null;
  const d = new Date(`${text}T00:00:00.000Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text ? null : d;
}

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** Today's date in UTC. */
export function todayOf(now: Date): string {
  return isoDate(now);
}

/** `--received`: a calendar date, not after today (UTC). Default: today. */
export function parseReceived(text: string | undefined, now: Date): string {
  if (text === undefined) return todayOf(now);
  const t = text.trim();
  const d = dateValue(t);
  if (!d) throw new UsageError(`--received "${text}" is not a date`, { hint: 'Give the day the request reached you as YYYY-MM-DD, e.g. --received 2026-12-01' });
  if (t > todayOf(now)) throw new UsageError(`--received ${t} is in the future (today is ${todayOf(now)}, UTC)`, { hint: 'Give the day the request reached you; the deadline runs from it' });
  return t;
}

/** Component-wise sum: P1M + P2M = P3M (so an extended GDPR deadline is three months from receipt, not one month then two). */
function plus(a: IsoDuration, b: IsoDuration): IsoDuration {
  return { years: a.years + b.years, months: a.months + b.months, weeks: a.weeks + b.weeks, days: a.days + b.days, hours: 0, minutes: 0, seconds: 0 };
}

/** `received` + `within`, months first (clamped to the month's last day), then weeks and days. */
export function dueDate(received: string, within: string): string {
  const r = dateValue(received);
  if (!r) throw new UsageError(`"${received}" is not a date`, { hint: 'Dates are YYYY-MM-DD' });
  return isoDate(addDuration(r, durationOf(within, 'respondWithin')));
}

/** The deadline once extended: `received` + (`within` + `extendBy`). */
export function extendedDueDate(received: string, within: string, extendBy: string): string {
  const r = dateValue(received);
  if (!r) throw new UsageError(`"${received}" is not a date`, { hint: 'Dates are YYYY-MM-DD' });
  return isoDate(addDuration(r, plus(durationOf(within, 'respondWithin'), durationOf(extendBy, 'extendBy'))));
}

/** Does the jurisdiction allow an extension at all? */
export function allowsExtension(extendBy: string): boolean {
  const d = parseDateDuration(extendBy);
  return d !== null && d.years + d.months + d.weeks + d.days > 0;
}

/** Whole days from `a` to `b` (dates). */
export function daysBetween(a: string, b: string): number {
  const x = dateValue(a);
  const y = dateValue(b);
  if (!x || !y) return Number.NaN;
  return Math.round((y.getTime() - x.getTime()) / 86_400_000);
}

/** When a case closed at `closedAt` (an instant) has its identifiers shredded. */
export function shredDueAt(closedAt: string, shredAfter: string): string {
  return addDuration(new Date(closedAt), durationOf(shredAfter, 'subjects.requests.shredAfter')).toISOString();
}

// ---- ids

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_CHARS = 6;

/** `REQ-` and six Crockford base-32 characters (no I, L, O, U): about a billion ids, readable over the phone. */
export function newRequestId(bytes: Buffer = randomBytes(ID_CHARS)): string {
  let s = '';
  for (let i = 0; i < ID_CHARS; i++) s += CROCKFORD[bytes[i]! % 32];
  return `REQ-${s}`;
}

/** An id as typed: any case, with or without `REQ-`, `O` for 0 and `I`/`L` for 1. Null when it cannot be one. */
export function normaliseRequestId(text: string): string | null {
  let t = text.trim().toUpperCase();
  if (t.startsWith('REQ-')) t = t.slice(4);
  else if (t.startsWith('REQ')) t = t.slice(3);
  t = t.replaceAll('O', '0').replaceAll('I', '1').replaceAll('L', '1');
  if (t.length !== ID_CHARS || [...t].some((ch) => !CROCKFORD.includes(ch))) return null;
  return `REQ-${t}`;
}

// ---- states and transitions

export type RequestState = 'received' | 'verified' | 'in-progress' | 'awaiting-identifier' | 'completed' | 'refused';
export const REQUEST_STATES: readonly RequestState[] = ['received', 'verified', 'in-progress', 'awaiting-identifier', 'completed', 'refused'];
export const OPEN_STATES: ReadonlySet<RequestState> = new Set(['received', 'verified', 'in-progress', 'awaiting-identifier']);

export type RequestAction = 'verify' | 'run' | 'add-identifier' | 'refuse' | 'extend' | 'shred';

/** The facts of a case a transition depends on. */
export interface CaseFacts {
  readonly id: string;
  readonly state: RequestState;
  readonly receivedOn: string;
  readonly dueOn: string;
  readonly extendedDueOn: string | null;
  readonly extendBy: string;
  readonly jurisdiction: string;
  readonly verifiedBy: string | null;
  readonly verifiedAt: string | null;
  readonly closedAt: string | null;
  readonly shreddedAt: string | null;
}

const day = (iso: string | null) => (iso ?? '').slice(0, 10);

/**
 * Why `action` may not happen to the case now, as the error to throw (message
 * and fix), or null when it may. `run` on a completed case is allowed (it does
 * nothing); `shred` only on a closed case not shredded yet.
 */
export function transitionRefusal(c: CaseFacts, action: RequestAction, now: Date): UsageError | null {
  const closed = c.state === 'completed' || c.state === 'refused';
  if (action === 'shred') {
    if (!closed) return new UsageError(`${c.id} is ${c.state}: its identifiers are needed until the case is closed`, { hint: `Shredding happens after a case is completed or refused (${shellCommand('steward', 'request', 'refuse', c.id, '--reason', '…')})` });
    if (c.shreddedAt) return new UsageError(`${c.id}'s identifiers were already shredded on ${day(c.shreddedAt)}`, { hint: 'Nothing is left to shred; the case and its evidence stay' });
    return null;
  }
  if (closed && !(action === 'run' && c.state === 'completed')) {
    return new UsageError(`${c.id} is closed (${c.state} on ${day(c.closedAt)})`, {
      hint: `A closed case keeps its evidence and does not change; a new request is a new case (${shellCommand('steward', 'request', 'open', '--kind', '…', '--email', '…')})`,
    });
  }
  switch (action) {
    case 'verify':
      if (c.state !== 'received') return new UsageError(`${c.id} is already verified (by "${c.verifiedBy ?? '?'}" on ${day(c.verifiedAt)})`, { hint: `Run it: ${shellCommand('steward', 'request', 'run', c.id)}` });
      return null;
    case 'run':
      if (c.state === 'received') {
        return new UsageError(`${c.id} is not verified: Steward runs a request only once the requester's identity is checked (GDPR Art. 12(6))`, {
          hint: `Check who asked, then record it: ${shellCommand('steward', 'request', 'verify', c.id, '--method', 'ID document', '--by', 'support')}`,
        });
      }
      if (c.state === 'awaiting-identifier') {
        return new UsageError(`${c.id} is waiting for an identifier: the ones given match more than one person, and nothing is done for either of them`, {
          hint: `Ask the requester for one more identifier, then: ${shellCommand('steward', 'request', 'add-identifier', c.id, '--email', '…')} and run it again`,
        });
      }
      return null;
    case 'add-identifier':
    case 'refuse':
      return null;
    case 'extend': {
      if (c.extendedDueOn) return new UsageError(`${c.id} was already extended (to ${c.extendedDueOn})`, { hint: 'A request can be extended once; answer it by then' });
      if (!allowsExtension(c.extendBy)) return new UsageError(`${c.id} is under ${c.jurisdiction}, which allows no extension`, { hint: 'Answer it by its deadline, or set subjects.requests.jurisdictions.<name>.extendBy in steward.yml if the law allows one' });
      if (todayOf(now) > c.dueOn) {
        return new UsageError(`${c.id} was due on ${c.dueOn}: an extension must be decided, and the requester told why, within the first period`, {
          hint: `Answer it now (${shellCommand('steward', 'request', 'run', c.id)}); it stays an overdue finding until it is closed`,
        });
      }
      return null;
    }
  }
}

/** Throws {@link transitionRefusal}'s error when there is one. */
export function assertTransition(c: CaseFacts, action: RequestAction, now: Date): void {
  const refusal = transitionRefusal(c, action, now);
  if (refusal) throw refusal;
}

// ---- steps

/** A step's record, as the runner needs it. */
export interface StepFacts {
  readonly step: RequestStepName;
  readonly status: 'running' | 'done' | 'failed' | 'ambiguous' | 'skipped' | 'interrupted';
  readonly identifiersVersion: number;
}

/**
 * The steps still to run: those of the kind without a `done` record made with
 * the case's current identifiers (adding an identifier makes every step run
 * again; a step that finished with them is never run twice).
 */
export function pendingSteps(kind: RequestKind, steps: readonly StepFacts[], identifiersVersion: number): RequestStepName[] {
  const done = new Set(steps.filter((s) => s.identifiersVersion === identifiersVersion && (s.status === 'done' || s.status === 'skipped')).map((s) => s.step));
  return STEPS_BY_KIND[kind].filter((s) => !done.has(s));
}

// ---- deadlines

export type DeadlineStatus = 'closed' | 'overdue' | 'due-soon' | 'open';

/** The deadline in force: the extended one once extended. */
export function deadlineOf(c: Pick<CaseFacts, 'dueOn' | 'extendedDueOn'>): string {
  return c.extendedDueOn ?? c.dueOn;
}

/**
 * Where an open case stands: `overdue` after its deadline, `due-soon` within
 * `dueSoonDays` of it (the deadline day included), else `open`; `daysLeft` is
 * negative when overdue. Closed cases are `closed` with no days left.
 */
export function classifyDeadline(c: Pick<CaseFacts, 'state' | 'dueOn' | 'extendedDueOn'>, now: Date, dueSoonDays: number): { readonly status: DeadlineStatus; readonly dueOn: string; readonly daysLeft: number | null } {
  const dueOn = deadlineOf(c);
  if (!OPEN_STATES.has(c.state)) return { status: 'closed', dueOn, daysLeft: null };
  const daysLeft = daysBetween(todayOf(now), dueOn);
  return { status: daysLeft < 0 ? 'overdue' : daysLeft <= dueSoonDays ? 'due-soon' : 'open', dueOn, daysLeft };
}

/** `12 days left`, `due today`, `3 days overdue`. */
export function daysLeftText(daysLeft: number | null): string {
  if (daysLeft === null) return '';
  if (daysLeft === 0) return 'due today';
  if (daysLeft < 0) return `${-daysLeft} day${daysLeft === -1 ? '' : 's'} overdue`;
  return `${daysLeft} day${daysLeft === 1 ? '' : 's'} left`;
}

// ---- audit findings

const STATE_WORDS: Readonly<Record<RequestState, string>> = {
  received: 'not verified yet',
  verified: 'verified, not run yet',
  'in-progress': 'in progress',
  'awaiting-identifier': 'waiting for an identifier',
  completed: 'completed',
  refused: 'refused',
};

/** Where request findings are located in reports: not a source in steward.yml (a source name cannot hold a space). */
export const REQUEST_FINDINGS_SOURCE = 'data-subject requests';

/** An open case as the audit sees it. */
export type RequestDeadlineFacts = Pick<CaseFacts, 'id' | 'state' | 'receivedOn' | 'dueOn' | 'extendedDueOn' | 'jurisdiction'> & { readonly kind: RequestKind };

/**
 * `subjects.request-overdue` (high) for every open case past its deadline,
 * `subjects.request-due-soon` (medium) for every one within `dueSoonDays` of it.
 * Located at {@link REQUEST_FINDINGS_SOURCE}, table = the case id; no identifier.
 */
export function requestFindings(cases: readonly RequestDeadlineFacts[], now: Date, dueSoonDays: number): DraftFinding[] {
  const out: DraftFinding[] = [];
  for (const c of cases) {
    const d = classifyDeadline(c, now, dueSoonDays);
    if (d.status !== 'overdue' && d.status !== 'due-soon') continue;
    const location = { source: REQUEST_FINDINGS_SOURCE, table: c.id };
    const what = `Request ${c.id} (${c.kind}, ${c.jurisdiction}), received ${c.receivedOn} and ${STATE_WORDS[c.state]}`;
    const next =
      c.state === 'received'
        ? `verify the requester (${shellCommand('steward', 'request', 'verify', c.id, '--method', '…', '--by', '…')}), then run it`
        : c.state === 'awaiting-identifier'
          ? `get the identifier that tells the people apart (${shellCommand('steward', 'request', 'add-identifier', c.id, '--email', '…')}), then run it`
          : `run it (${shellCommand('steward', 'request', 'run', c.id)})`;
    if (d.status === 'overdue') {
      const rule = 'subjects.request-overdue';
      out.push({
        id: findingId(rule, location),
        rule,
        severity: 'high',
        location,
        title: 'Data-subject request overdue',
        message: `${what}, was due ${d.dueOn}${c.extendedDueOn ? ' (extended)' : ''} and is ${daysLeftText(d.daysLeft)}.`,
        remedy: `Answer it now: ${next}; or refuse it with the reason (${shellCommand('steward', 'request', 'refuse', c.id, '--reason', '…')}). Late answers breach the deadline the law sets.`,
      });
    } else {
      const rule = 'subjects.request-due-soon';
      out.push({
        id: findingId(rule, location),
        rule,
        severity: 'medium',
        location,
        title: 'Data-subject request due soon',
        message: `${what}, is due ${d.dueOn}${c.extendedDueOn ? ' (extended)' : ''}: ${daysLeftText(d.daysLeft)}.`,
        remedy: `${next.charAt(0).toUpperCase()}${next.slice(1)}${c.extendedDueOn ? '' : `; if it needs more time and the law allows it, extend it with the reason before the deadline (${shellCommand('steward', 'request', 'extend', c.id, '--reason', '…')})`}.`,
      });
    }
  }
  return out;
}
