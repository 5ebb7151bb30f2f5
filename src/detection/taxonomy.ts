/**
 * Steward's data-category taxonomy. A category is `<group>.<kind>`; the group
 * says what the data is about, the risk says how much harm its exposure does.
 * Users may add their own categories (any `group.kind` string) through custom
 * detectors and column rules in `steward.yml`; those default to `medium` risk.
 */

export type Risk = 'high' | 'medium' | 'low';

export interface CategoryInfo {
  readonly id: string;
  readonly label: string;
  readonly risk: Risk;
  /** Kept in plain text, this category is a finding of its own (cards, government ids, secrets). */
  readonly encryptionRequired: boolean;
  readonly description: string;
}

const categories = [
  { id: 'contact.email', label: 'Email address', risk: 'medium', encryptionRequired: false, description: 'Personal or work email addresses.' },
  { id: 'contact.phone', label: 'Phone number', risk: 'medium', encryptionRequired: false, description: 'Landline or mobile numbers, any country.' },
  { id: 'contact.postal_address', label: 'Postal address', risk: 'medium', encryptionRequired: false, description: 'Street address lines and full addresses.' },
  { id: 'contact.postcode', label: 'Postcode', risk: 'low', encryptionRequired: false, description: 'Postal / ZIP codes (quasi-identifier).' },
  { id: 'identity.person_name', label: 'Person name', risk: 'medium', encryptionRequired: false, description: 'First, last or full names of people.' },
  { id: 'identity.date_of_birth', label: 'Date of birth', risk: 'medium', encryptionRequired: false, description: 'Birth dates (quasi-identifier; with name and postcode, identifying).' },
  { id: 'identity.government_id', label: 'Government ID', risk: 'high', encryptionRequired: true, description: 'US SSN, UK NINO, German tax ID, French NIR, Spanish DNI/NIE, passport numbers.' },
  { id: 'financial.card', label: 'Payment card', risk: 'high', encryptionRequired: true, description: 'Primary account numbers of payment cards (PCI DSS scope).' },
  { id: 'financial.bank_account', label: 'Bank account', risk: 'high', encryptionRequired: true, description: 'IBANs and bank account numbers.' },
  { id: 'network.ip_address', label: 'IP address', risk: 'low', encryptionRequired: false, description: 'IPv4 and IPv6 addresses (online identifiers under GDPR).' },
  { id: 'location.geolocation', label: 'Geolocation', risk: 'medium', encryptionRequired: false, description: 'Latitude/longitude pairs precise enough to locate a person.' },
  { id: 'credentials.secret', label: 'Secret or password', risk: 'high', encryptionRequired: true, description: 'Plain-text passwords, API tokens, private keys.' },
  { id: 'demographic.gender', label: 'Gender', risk: 'low', encryptionRequired: false, description: 'Gender or sex.' },
  { id: 'content.free_text', label: 'Free text with personal data', risk: 'medium', encryptionRequired: false, description: 'Prose (notes, tickets, messages) in which personal data of other categories was found.' },
  { id: 'special.health', label: 'Health data', risk: 'high', encryptionRequired: true, description: 'GDPR Art. 9 special-category data about health.' },
] as const satisfies readonly CategoryInfo[];

export type BuiltinCategory = (typeof categories)[number]['id'];
/** A built-in category, or a user's own `group.kind`. */
export type Category = BuiltinCategory | (string & {});

export const TAXONOMY: ReadonlyMap<string, CategoryInfo> = new Map(categories.map((c) => [c.id, c]));
export const BUILTIN_CATEGORIES: readonly BuiltinCategory[] = categories.map((c) => c.id);

/** Category info, with a default for user-defined categories. */
export function categoryInfo(id: Category): CategoryInfo {
  return (
    TAXONOMY.get(id) ?? {
      id,
      label: id,
      risk: 'medium',
      encryptionRequired: false,
      description: 'User-defined category.',
    }
  );
}

/**
 * Whether a purpose's declared category pattern covers a category.
 * Patterns are exact ids (`contact.email`), group wildcards (`contact.*`) or `*`.
 */
export function categoryMatches(pattern: string, category: Category): boolean {
  if (pattern === '*' || pattern === category) return true;
  if (pattern.endsWith('.*')) return category.startsWith(pattern.slice(0, -1));
  return false;
}
