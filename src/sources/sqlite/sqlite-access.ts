import fs from 'node:fs/promises';
import path from 'node:path';
import type { SourceAccessReader } from '../source-base.js';
import type { AccessFile, AccessGrant, AccessPrincipal, AccessSnapshot, AccessStatements } from '../types.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

export const SQLITE_ACCESS_STATEMENTS: AccessStatements = {
  narrowTable: () => null,
  expirePassword: () => null,
  secureAccount: () => null,
  demote: () => null,
  chmod: (p, mode) => `chmod ${mode.toString(8)} ${shellQuote(p)}`,
};

const SIDECARS: readonly [AccessFile['role'], string][] = [
  ['wal', '-wal'],
  ['shm', '-shm'],
  ['journal', '-journal'],
];

/**
 * A SQLite database has no accounts: whoever can read the file reads every
 * table. Access is the file's permission bits, and those of the WAL, shared
 * memory and rollback journal beside it (each holds recent rows), and of the
 * directory (whoever may write to it may replace the file).
 */
export class SqliteAccessReader implements SourceAccessReader {
  readonly #file: string | undefined;

  constructor(file: string | undefined) {
    this.#file = file;
  }

  async read(): Promise<AccessSnapshot> {
    const files: AccessFile[] = [];
    const grants: AccessGrant[] = [];
    const file = this.#file;
    if (file && file !== ':memory:') {
      const stat = async (p: string, role: AccessFile['role']) => {
        try {
          const s = await fs.stat(p);
          files.push({ path: p, role, mode: s.mode & 0o777, uid: s.uid, gid: s.gid });
        } catch {
          // absent sidecar: nothing to check
        }
      };
      await stat(file, 'database');
      for (const [role, suffix] of SIDECARS) await stat(`${file}${suffix}`, role);
      await stat(path.dirname(file), 'directory');
      for (const f of files) {
        if (f.role === 'directory') continue;
        const what = f.role === 'database' ? 'the database file' : `the ${f.role} file`;
        const fix = SQLITE_ACCESS_STATEMENTS.chmod(f.path, 0o600);
        if (f.mode & 0o004) grants.push({ grantee: 'others', privilege: 'FILE-READ', scope: 'server', revoke: fix, label: `reads ${what} (mode ${f.mode.toString(8).padStart(4, '0')})` });
        if (f.mode & 0o040) grants.push({ grantee: `group ${f.gid}`, privilege: 'FILE-READ', scope: 'server', revoke: fix, label: `reads ${what} (mode ${f.mode.toString(8).padStart(4, '0')})` });
      }
    }
    const grantees = [...new Set(grants.map((g) => g.grantee))];
    const principals: AccessPrincipal[] = grantees.map((name) => ({ name, kind: 'os', login: true, superuser: false, bypassRls: false }));
    return {
      principals,
      memberships: [],
      grants,
      tableSecurity: [],
      defaultPrivileges: [],
      files,
      problems: [],
      statements: SQLITE_ACCESS_STATEMENTS,
    };
  }
}
