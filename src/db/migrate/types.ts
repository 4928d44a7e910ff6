export interface ForeignKey {
  /** The constraint's name, where the database names it (MySQL). */
  name?: string
  column: string
  refTable: string
  refColumn: string
  onDelete: string
  onUpdate: string
}

export interface IndexShape {
  name: string
  unique: boolean
  fields: string[]
}

export interface DesiredColumn {
  name: string
  /** The column's SQL type for this dialect, e.g. `VARCHAR(255)`, as Sequelize emits it. */
  type: string
  nullable: boolean
  /** The default as this dialect's SQL writes it (`'main'`, `true`), or null for none. */
  default: string | null
  /** Whether adding it to a table with rows needs no value: nullable or defaulted. */
  addable: boolean
  /** Full column definition for ADD/MODIFY COLUMN, without any REFERENCES clause. */
  definition: string
}

export interface DesiredTable {
  name: string
  /** Owned by the main Delivr server: created when missing, never changed. */
  reference: boolean
  columns: DesiredColumn[]
  indexes: IndexShape[]
  foreignKeys: ForeignKey[]
  /** Statements that create the table with its indexes. */
  createSql: string[]
}

export interface LiveColumn {
  name: string
  type: string
  nullable: boolean
  default: string | null
  charset: string | null
  collation: string | null
}

export interface LiveTable {
  name: string
  columns: Map<string, LiveColumn>
  indexes: Map<string, IndexShape>
  foreignKeys: ForeignKey[]
}

export type StepAction =
  'create-table' | 'add-column' | 'add-index' | 'add-foreign-key' | 'extend-enum' | 'change-column' | 'change-index' | 'change-foreign-key'

export interface Step {
  action: StepAction
  table: string
  /** `table`, `table.column` or `table.index`: what a reader looks for. */
  object: string
  /** Safe to apply unattended: creates something, changes and drops nothing. */
  additive: boolean
  /** Why the step exists, in words. */
  reason: string
  /** The SQL that would do it, for this dialect. */
  sql: string[]
}
