/**
 * Commands Steward suggests (in reports, hints, remedies) are pasted into a shell.
 * Every argument goes through {@link shellCommand}: a table called `t;touch X;#` or
 * `$(id)` stays one argument, never a second command. POSIX quoting by shell-quote.
 */
import { quote } from 'shell-quote';

/** `steward encrypt --source shop --column 't;touch X;#.card'`: each argument quoted only where it must be. */
export function shellCommand(...argv: readonly string[]): string {
  return quote([...argv]);
}
