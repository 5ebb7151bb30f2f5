/**
 * Steward's own ciphertext format (`stw1:` + …, written by the crypto module).
 * Values in this format are encrypted personal data, not secrets or findings.
 */
export const STEWARD_CIPHERTEXT_PREFIX = 'stw1:';

export function isStewardCiphertext(value: string): boolean {
  return value.trimStart().startsWith(STEWARD_CIPHERTEXT_PREFIX);
}
