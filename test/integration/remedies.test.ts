/**
 * The fixes Steward prints must do what they say when pasted: a suggested command
 * is one command whatever the table is called (shell-quoted arguments), and a
 * REVOKE names the role it is about even when that role's name holds a newline
 * (Postgres `U&"…"`), or says it cannot be shown.
 */
import { parse } from 'shell-quote';
import { expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import { loadConfigText } from '../../src/config/index.js';
import { openSource } from '../../src/sources/index.js';
import { forEachDialect, uniqueName } from '../helpers/dialects.js';

function luhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

const audit = (kind: string, url: string, stage: 'collection' | 'access', access: string[] = []) => {
  const lines = ['sources:', '  - name: s', `    kind: ${kind}`, `    url: ${JSON.stringify(url)}`, '    owner: t', ...(access.length ? ['    access:', ...access.map((l) => `      ${l}`)] : [])];
  const { config, patterns } = loadConfigText(lines.join('\n'), { file: 'steward.yml', cwd: process.cwd(), env: {} });
  return runAudit({ config, patterns, stage, openSource: (conn) => openSource(conn, { readonly: true }) });
};

forEachDialect('remedies that can be pasted', (d) => {
  it.skipIf(d.engine === 'pglite')('a table called "t;touch X;#" gets an encrypt command that is one command with that table', async () => {
    const t = d.kind === 'mysql' ? 't;touch X;#' : 't;touch X;#';
    await d.exec(`create table ${d.q(t)} (id integer primary key, card_number varchar(20))`);
    const rows = Array.from({ length: 60 }, (_, i) => `(${i + 1}, '${luhn(`4000001234${String(10000 + i).slice(-5)}`)}')`).join(', ');
    await d.exec(`insert into ${d.q(t)} values ${rows}`);
    const report = await audit(d.kind, d.url!, 'collection');
    const f = report.findings.find((x) => x.location.table === t && /steward encrypt/.test(x.remedy ?? ''));
    expect(f, JSON.stringify(report.findings.map((x) => x.rule))).toBeDefined();
    const command = /`(steward encrypt[^`]*)`/.exec(f!.remedy!)![1]!;
    const argv = parse(command);
    // Strings only: no `;`, `#` comment or other operator came out of the name.
    expect(argv.every((a) => typeof a === 'string')).toBe(true);
    expect(argv).toEqual(['steward', 'encrypt', '--source', 's', '--column', expect.stringMatching(/(^|\.)t;touch X;#\.card_number$/), '--dry-run']);
  });

  it.skipIf(d.kind !== 'postgres' || d.engine !== 'server')('a REVOKE for a role whose name holds a newline names that role (U&"…") and revokes it when run', async () => {
    const role = `${uniqueName('rem')}\nanalyst`;
    const ident = `"${role.replace(/"/g, '""')}"`;
    await d.exec(`create table customers (id integer primary key, email text); create role ${ident} login; grant select on customers to ${ident};`);
    await d.exec(`insert into customers select i, 'person' || i || '@example.com' from generate_series(1, 60) i`);
    const report = await audit(d.kind, d.url!, 'access', ['authorized:', '  - { principal: postgres }', '  - { principal: root }']);
    const f = report.findings.find((x) => x.rule === 'access.unauthorized-read' && x.message.startsWith(role));
    expect(f, JSON.stringify(report.findings.map((x) => `${x.rule} ${x.message.slice(0, 40)}`))).toBeDefined();
    const statement = /Printed, not run: (.*)$/.exec(f!.remedy!)![1]!;
    expect(statement).toContain('U&"');
    expect(statement).not.toMatch(/[\n\r\u001b]/);
    const before = await d.query<{ ok: boolean }>(`select has_table_privilege(${`'${role.replace(/'/g, "''")}'`}, 'customers', 'SELECT') as ok`);
    expect(before[0]!.ok).toBe(true);
    await d.exec(statement);
    const after = await d.query<{ ok: boolean }>(`select has_table_privilege(${`'${role.replace(/'/g, "''")}'`}, 'customers', 'SELECT') as ok`);
    expect(after[0]!.ok).toBe(false);
    await d.exec(`drop table customers; drop role ${ident}`);
  });
});
