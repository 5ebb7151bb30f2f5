/** What introspection returns: tables, columns and keys as plain readonly records. A leaf: imports nothing. */

/** A table's address. `schema` is the Postgres schema / MySQL database / SQLite attached db ("main"). */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export interface ColumnInfo {
  readonly name: string;
  /** The database's own type name, lower case (`character varying`, `varchar(255)`, `TEXT`). */
  readonly dataType: string;
  /** Steward's coarse type, used by detection: only `text` columns carry free text. */
  readonly typeClass: 'text' | 'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'binary' | 'json' | 'uuid' | 'other';
  readonly nullable: boolean;
  /** Declared maximum length for text types, when the database knows it. */
  readonly maxLength: number | null;
  readonly comment: string | null;
}

export interface ForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedSchema: string;
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
}

export interface TableInfo extends TableRef {
  readonly kind: 'table' | 'view';
  readonly columns: readonly ColumnInfo[];
  /** Primary key columns in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKey[];
  /**
   * Other column sets no two rows may share (UNIQUE constraints and plain unique
   * indexes, not partial ones or ones over expressions), each in index order.
   * Absent when the introspector did not read them.
   */
  readonly uniqueKeys?: readonly (readonly string[])[];
  /** Row count from catalog statistics (never `count(*)` on a large table); -1 when unknown. */
  readonly rowEstimate: number;
  readonly comment: string | null;
}
