/**
 * Commands Steward suggests (in reports, hints, remedies) are pasted into a shell.
 * Every argument goes through {@link shellCommand}: a table called `t;touch X;#` or
 * `$(id)` stays one argument, never a second command. POSIX single quotes, which
 * the shell reads with no expansion at all (a quote inside becomes `'\''`); plain
 * words stay unquoted so the common case reads as typed. The tests check the result
 * with shell-quote's parser.
 */
const PLAIN = /^[A-Za-z0-9_.,:/@%+=-]+$/;

/** One argument as a POSIX shell reads it back exactly. */
export function shellQuote(arg: string): string {
  return PLAIN.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** `steward encrypt --source shop --column 't;touch X;#.card'`. */
export function shellCommand(...argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
