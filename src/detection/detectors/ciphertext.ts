/**
 * Steward's own ciphertext format (`stw1:<keyId>:<version>:<payload>`, written by the crypto
 * module). Values in this format are encrypted personal data, not secrets or findings.
 *
 * The prefix alone proves nothing: anyone who can write a field can write `stw1:hello`, and a
 * collection audit that trusted it would report that plaintext as encrypted. A value counts
 * only when it parses as a whole envelope (the same parser decryption uses). Detection has no
 * keys, so a well-formed envelope under a key id Steward never issued still counts here; the
 * column migration authenticates values with the column's key before it leaves any alone.
 */
import { isCiphertextShaped } from '../../crypto/format.js';

export const STEWARD_CIPHERTEXT_PREFIX = 'stw1:';

/** Is the value a well-formed Steward envelope (not merely `stw1:`-prefixed)? */
export function isStewardCiphertext(value: string): boolean {
  return isCiphertextShaped(value);
}
