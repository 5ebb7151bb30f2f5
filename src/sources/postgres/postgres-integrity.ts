import { sql } from 'kysely';
import type { IntegrityExpressions } from '../types.js';

export const POSTGRES_INTEGRITY: IntegrityExpressions = {
  exact: true,
  invalidEmail: (c) => sql`(${c}::text !~ '^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$')`,
  invalidPhone: (c) => sql`(length(regexp_replace(${c}::text, '[^0-9]', '', 'g')) not between 7 and 15)`,
  impossibleBirthDate: (c) => sql`(${c}::date > current_date or ${c}::date < date '1900-01-01')`,
  olderThan: (c, iso) => sql`(${c} < ${iso}::timestamptz)`,
  folded: (c) => sql`lower(${c}::text)`,
};
