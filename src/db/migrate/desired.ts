import type { Model, ModelAttributeColumnOptions, ModelStatic, Sequelize } from 'sequelize'
import type { DesiredColumn, DesiredTable, ForeignKey } from './types.js'

// Sequelize's query generator is not in its public typings; these are the calls the engine uses.
export interface QueryGenerator {
  attributesToSQL(attributes: object, options?: object): Record<string, string>
  createTableQuery(table: string, attributes: Record<string, string>, options: object): string
  addIndexQuery(table: string, options: object, rawTable?: string): string
  addColumnQuery(table: string, column: string, attribute: object): string
  quoteIdentifier(name: string): string
  quoteTable(name: string): string
}

export function queryGenerator(sequelize: Sequelize): QueryGenerator {
  return (sequelize.getQueryInterface() as unknown as { queryGenerator: QueryGenerator }).queryGenerator
}

const CLAUSE = / (NOT NULL|auto_increment|AUTOINCREMENT|DEFAULT |UNIQUE|PRIMARY KEY|COMMENT |REFERENCES )/

/** `VARCHAR(255) NOT NULL DEFAULT 'x'` → `VARCHAR(255)`. */
export function typeOf(definition: string): string {
  const at = definition.search(CLAUSE)
  return (at === -1 ? definition : definition.slice(0, at)).trim()
}

const DEFAULT = / DEFAULT ('(?:[^']|'')*'|\S+)/

/** `VARCHAR(255) DEFAULT 'main'` → `'main'`; null when the definition sets no default. */
export function defaultOf(definition: string): string | null {
  return DEFAULT.exec(definition)?.[1] ?? null
}

function withoutReferences(definition: string): string {
  const at = definition.indexOf(' REFERENCES ')
  return at === -1 ? definition : definition.slice(0, at)
}

/** What the models need, table by table, in this dialect's SQL. */
export function describeModel(sequelize: Sequelize, model: ModelStatic<Model>, reference: boolean): DesiredTable {
  const qg = queryGenerator(sequelize)
  const table = model.getTableName() as string
  const attributes = model.getAttributes() as Record<string, ModelAttributeColumnOptions>
  const sql = qg.attributesToSQL(attributes, { table, context: 'createTable' })
  const columns: DesiredColumn[] = Object.entries(attributes).map(([key, attribute]) => {
    const name = attribute.field ?? key
    const definition = withoutReferences(sql[name] ?? sql[key]!).replace(/ PRIMARY KEY/, '')
    const nullable = attribute.allowNull !== false && !attribute.primaryKey
    return {
      name,
      type: typeOf(definition),
      nullable,
      default: defaultOf(definition),
      addable: nullable || attribute.defaultValue !== undefined,
      definition,
    }
  })
  const foreignKeys: ForeignKey[] = Object.entries(attributes)
    .filter(([, a]) => a.references && typeof a.references === 'object')
    .map(([key, a]) => {
      const references = a.references as { model: string | { tableName: string }; key?: string }
      return {
        column: a.field ?? key,
        refTable: typeof references.model === 'string' ? references.model : references.model.tableName,
        refColumn: references.key ?? 'id',
        onDelete: (a.onDelete ?? 'NO ACTION').toUpperCase(),
        onUpdate: (a.onUpdate ?? 'NO ACTION').toUpperCase(),
      }
    })
  const indexes = (model.options.indexes ?? [])
    .filter((i) => i.name)
    .map((i) => ({ name: i.name!, unique: i.unique ?? false, fields: (i.fields ?? []).map(String) }))
  const createSql = [
    qg.createTableQuery(table, sql, { ...model.options }).replace(/;$/, ''),
    ...(model.options.indexes ?? []).map((i) => qg.addIndexQuery(table, i, table)),
  ]
  return { name: table, reference, columns, indexes, foreignKeys, createSql }
}
