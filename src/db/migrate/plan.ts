import type { SqlDialect } from '../dialect.js'
import type { QueryGenerator } from './desired.js'
import type { DesiredColumn, DesiredTable, ForeignKey, IndexShape, LiveColumn, LiveTable, Step } from './types.js'

/** Comparable form of a column type: `ENUM('A', 'B')` and `enum('A','B')` are the same type. */
export function normalizeType(type: string, dialect: SqlDialect): string {
  let t = type
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*,\s*/g, ',')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim()
  if (dialect === 'mysql') {
    t = t
      .replace(/ binary\b/, '')
      .replace(/ character set \w+/, '')
      .replace(/ collate \w+/, '')
      .replace(/^int(eger)?(\(\d+\))?/, 'int')
      .replace(/^boolean$/, 'tinyint(1)')
  }
  return t.trim()
}

/** The collation a desired definition asks for, if it asks for one. */
function wantedCollation(column: DesiredColumn): ((collation: string | null) => boolean) | undefined {
  const explicit = /COLLATE (\w+)/i.exec(column.definition)?.[1]
  if (explicit) return (c) => c === explicit
  if (/ BINARY\b/.test(column.definition)) return (c) => c?.endsWith('_bin') ?? false
  return undefined
}

/** `enum('A','B')` → `['A', 'B']`; undefined for any other type. */
export function enumValues(type: string): string[] | undefined {
  const list = /^enum\((.*)\)$/is.exec(type.trim())?.[1]
  if (list === undefined) return undefined
  return [...list.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"))
}

/**
 * When both types are ENUMs: the values the models append after every live value, in the
 * same order ([] when the lists are equal); undefined when the lists differ any other way
 * (a value reordered, removed or renamed) or either type is not an ENUM.
 */
export function appendedEnumValues(live: string, wanted: string): string[] | undefined {
  const have = enumValues(live)
  const want = enumValues(wanted)
  if (!have || !want || want.length < have.length) return undefined
  return have.every((v, i) => v === want[i]) ? want.slice(have.length) : undefined
}

/** A default as a value: quotes and the spelling of booleans and NULL set aside (MariaDB quotes strings, MySQL 8 does not). */
export function normalizeDefault(value: string | null): string | null {
  if (value === null || /^null$/i.test(value.trim())) return null
  const v = value.trim()
  const quoted = /^'((?:[^']|'')*)'$/.exec(v)
  if (quoted) return quoted[1]!.replace(/''/g, "'")
  if (/^true$/i.test(v)) return '1'
  if (/^false$/i.test(v)) return '0'
  return v
}

const showDefault = (value: string | null) => (normalizeDefault(value) === null ? 'none' : value!.trim())

/** The new definition, in the live column's character set and collation: appending values changes nothing else. */
function keepingCollation(column: DesiredColumn, live: LiveColumn): string {
  if (!live.charset || /CHARACTER SET|COLLATE/i.test(column.definition)) return column.definition
  const rest = column.definition.slice(column.type.length)
  return `${column.type} CHARACTER SET ${live.charset} COLLATE ${live.collation}${rest}`
}

function sameIndex(a: IndexShape, b: IndexShape): boolean {
  return a.unique === b.unique && a.fields.join(',') === b.fields.join(',')
}

function sameKey(a: ForeignKey, b: ForeignKey): boolean {
  return a.column === b.column && a.refTable === b.refTable && a.refColumn === b.refColumn
}

export function describeColumn(live: LiveColumn): string {
  const collation = live.collation ? ` COLLATE ${live.collation}` : ''
  return `${live.type}${collation}${live.nullable ? ' NULL' : ' NOT NULL'}`
}

/**
 * Steps that bring the live schema to what the models need. Additive steps create
 * things; every other step is for a person to review. Nothing is ever planned to be dropped
 * except an index whose definition must change, and that step is never additive.
 */
export function planSchema(desired: DesiredTable[], live: Map<string, LiveTable>, qg: QueryGenerator, dialect: SqlDialect): Step[] {
  const steps: Step[] = []
  const q = (name: string) => qg.quoteIdentifier(name)
  for (const table of desired) {
    const current = live.get(table.name)
    const t = qg.quoteTable(table.name)
    if (!current) {
      steps.push({
        action: 'create-table',
        table: table.name,
        object: table.name,
        additive: true,
        reason: table.reference ? 'reference table missing (created as the Delivr server would)' : 'table missing',
        sql: table.createSql,
      })
      continue
    }
    if (table.reference) continue

    for (const column of table.columns) {
      const found = current.columns.get(column.name)
      const object = `${table.name}.${column.name}`
      if (!found) {
        steps.push({
          action: 'add-column',
          table: table.name,
          object,
          additive: column.addable,
          reason: column.addable ? 'column missing' : 'column missing; NOT NULL without a default needs a value for existing rows',
          sql: [`ALTER TABLE ${t} ADD ${q(column.name)} ${column.definition}`],
        })
        continue
      }
      const problems: string[] = []
      const appended = appendedEnumValues(found.type, column.type)
      const bothEnums = enumValues(found.type) !== undefined && enumValues(column.type) !== undefined
      const typeDiffers = bothEnums ? appended?.length !== 0 : normalizeType(found.type, dialect) !== normalizeType(column.type, dialect)
      if (typeDiffers) problems.push(`type is ${found.type}, models need ${column.type}`)
      if (found.nullable !== column.nullable)
        problems.push(found.nullable ? 'allows NULL, models need NOT NULL' : 'is NOT NULL, models allow NULL')
      if (normalizeDefault(found.default) !== normalizeDefault(column.default))
        problems.push(`default is ${showDefault(found.default)}, models need ${showDefault(column.default)}`)
      const collation = wantedCollation(column)
      if (dialect === 'mysql' && collation && !collation(found.collation))
        problems.push(`collation is ${found.collation}, models need ${column.definition}`)
      // Values appended at the end leave every stored value and its position alone: additive.
      if (appended?.length && problems.length === 1) {
        steps.push({
          action: 'extend-enum',
          table: table.name,
          object,
          additive: true,
          reason: `${appended.map((v) => `'${v}'`).join(', ')} appended to the values of ${found.type}`,
          sql: [`ALTER TABLE ${t} MODIFY ${q(column.name)} ${keepingCollation(column, found)}`],
        })
        continue
      }
      if (problems.length === 0) continue
      steps.push({
        action: 'change-column',
        table: table.name,
        object,
        additive: false,
        reason: `${problems.join('; ')} (now ${describeColumn(found)})`,
        sql:
          dialect === 'mysql'
            ? [`ALTER TABLE ${t} MODIFY ${q(column.name)} ${column.definition}`]
            : [
                `-- SQLite cannot change a column in place: rebuild ${table.name} with ${q(column.name)} ${column.definition}, copy its rows, then swap the tables`,
              ],
      })
    }

    for (const index of table.indexes) {
      const found = current.indexes.get(index.name)
      const create = qg.addIndexQuery(table.name, { ...index }, table.name)
      if (!found) {
        steps.push({
          action: 'add-index',
          table: table.name,
          object: `${table.name}.${index.name}`,
          additive: true,
          reason: 'index missing',
          sql: [create],
        })
      } else if (!sameIndex(found, index)) {
        const drop = dialect === 'mysql' ? `ALTER TABLE ${t} DROP INDEX ${q(index.name)}` : `DROP INDEX ${q(index.name)}`
        steps.push({
          action: 'change-index',
          table: table.name,
          object: `${table.name}.${index.name}`,
          additive: false,
          reason: `index is ${found.unique ? 'UNIQUE ' : ''}(${found.fields.join(', ')}), models need ${index.unique ? 'UNIQUE ' : ''}(${index.fields.join(', ')})`,
          sql: [drop, create],
        })
      }
    }

    for (const key of table.foreignKeys) {
      const found = current.foreignKeys.find((k) => sameKey(k, key))
      const object = `${table.name}.${key.column}`
      const clause = `FOREIGN KEY (${q(key.column)}) REFERENCES ${qg.quoteTable(key.refTable)} (${q(key.refColumn)}) ON DELETE ${key.onDelete} ON UPDATE ${key.onUpdate}`
      if (!found) {
        steps.push({
          action: 'add-foreign-key',
          table: table.name,
          object,
          additive: dialect === 'mysql',
          reason: `foreign key to ${key.refTable}.${key.refColumn} missing`,
          sql:
            dialect === 'mysql'
              ? [`ALTER TABLE ${t} ADD CONSTRAINT ${q(`fk_${table.name}_${key.column}`)} ${clause}`]
              : [`-- SQLite cannot add a foreign key in place: rebuild ${table.name} with ${clause}`],
        })
      } else if (found.onDelete !== key.onDelete || found.onUpdate !== key.onUpdate) {
        steps.push({
          action: 'change-foreign-key',
          table: table.name,
          object,
          additive: false,
          reason: `foreign key is ON DELETE ${found.onDelete} ON UPDATE ${found.onUpdate}, models need ON DELETE ${key.onDelete} ON UPDATE ${key.onUpdate}`,
          sql:
            dialect === 'mysql' && found.name
              ? [`ALTER TABLE ${t} DROP FOREIGN KEY ${q(found.name)}`, `ALTER TABLE ${t} ADD CONSTRAINT ${q(found.name)} ${clause}`]
              : [`-- SQLite cannot change a foreign key in place: rebuild ${table.name} with ${clause}`],
        })
      }
    }
  }
  return steps
}

/** A plan as SQL a reviewer can read and a client can run: additive steps first. */
export function formatPlan(steps: Step[]): string {
  if (steps.length === 0) return '-- The schema already has everything the service needs.\n'
  const ordered = [...steps.filter((s) => s.additive), ...steps.filter((s) => !s.additive)]
  return (
    ordered
      .map((s) => {
        const header = `-- ${s.additive ? 'additive' : 'NEEDS REVIEW'}: ${s.action} ${s.object}: ${s.reason}`
        return [header, ...s.sql.map((sql) => (sql.startsWith('--') ? sql : `${sql.replace(/;\s*$/, '')};`))].join('\n')
      })
      .join('\n\n') + '\n'
  )
}
