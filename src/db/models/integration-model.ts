import {
  DataTypes,
  Model,
  type CreationOptional,
  type DataType,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelAttributes,
  type ModelStatic,
  type Sequelize,
} from 'sequelize'
import { fingerprintKey, type KindDefinition } from '../../kinds/define/kind.js'

export const VERIFICATION_STATUSES = ['PENDING', 'VALID', 'INVALID', 'EXPIRED'] as const
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number]

/** The columns every kind's table shares. Provider columns are read with `get()`. */
export class IntegrationRecord extends Model<InferAttributes<IntegrationRecord>, InferCreationAttributes<IntegrationRecord>> {
  declare id: string
  declare tenantId: string
  declare displayName: string
  declare isActive: CreationOptional<boolean>
  declare verificationStatus: CreationOptional<VerificationStatus>
  declare lastVerifiedAt: CreationOptional<Date | null>
  declare verificationError: CreationOptional<string | null>
  declare credentialExpiresAt: CreationOptional<Date | null>
  declare createdByAccountId: string
  declare createdAt: CreationOptional<Date>
  declare updatedAt: CreationOptional<Date>
  declare version: CreationOptional<number>
}

export type IntegrationModel = ModelStatic<IntegrationRecord>

/**
 * Column types of the referenced keys, read from the live database, so foreign keys
 * match the referenced column's type, charset and collation (errno 150 otherwise).
 */
export interface ReferenceColumnTypes {
  tenantId: DataType | string
  accountId: DataType | string
}

export const DEFAULT_REFERENCE_TYPES: ReferenceColumnTypes = {
  tenantId: DataTypes.CHAR(36).BINARY,
  accountId: DataTypes.STRING(255),
}

export function integrationAttributes(kind: KindDefinition, refs: ReferenceColumnTypes): ModelAttributes<IntegrationRecord> {
  const providers = kind.providers.map((p) => p.id)
  const kindColumns: ModelAttributes = {}
  for (const [name, field] of Object.entries(kind.fields)) {
    kindColumns[name] = { ...field.column }
    if (field.secret) kindColumns[fingerprintKey(name)] = { type: DataTypes.STRING(64), allowNull: true }
  }
  return {
    id: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
    tenantId: {
      type: refs.tenantId,
      allowNull: false,
      references: { model: 'tenants', key: 'id' },
      onDelete: 'CASCADE',
      onUpdate: 'CASCADE',
    },
    // SQLite stores ENUM as plain TEXT: the model enforces the values on every dialect.
    [kind.providerField]: { type: DataTypes.ENUM(...providers), allowNull: false, validate: { isIn: [providers] } },
    displayName: { type: DataTypes.STRING(255), allowNull: false },
    ...kindColumns,
    isActive: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    verificationStatus: {
      type: DataTypes.ENUM(...VERIFICATION_STATUSES),
      allowNull: false,
      defaultValue: 'PENDING',
      validate: { isIn: [[...VERIFICATION_STATUSES]] },
    },
    lastVerifiedAt: { type: DataTypes.DATE(3), allowNull: true },
    verificationError: { type: DataTypes.STRING(1024), allowNull: true },
    credentialExpiresAt: { type: DataTypes.DATE(3), allowNull: true },
    createdByAccountId: {
      type: refs.accountId,
      allowNull: false,
      references: { model: 'accounts', key: 'id' },
      onDelete: 'RESTRICT',
      onUpdate: 'CASCADE',
    },
    // Millisecond precision, so what a write answers equals what a later read shows.
    createdAt: { type: DataTypes.DATE(3), allowNull: false },
    updatedAt: { type: DataTypes.DATE(3), allowNull: false },
    // Moved on by every write, so a verdict reached on an older version can be refused (compare-and-set).
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  } as ModelAttributes<IntegrationRecord>
}

/**
 * The keyset index every kind's table gets beside the ones its definition declares: a page
 * (`WHERE tenantId = ? [AND id > ?] ORDER BY id LIMIT n`) walks it from the cursor and stops after
 * n rows, whatever the tenant's size. Named after the table in the kinds' style
 * (`tenant_scm_integrations` → `idx_scm_tenant_page`); index names are global on SQLite.
 */
export function pageIndexName(kind: Pick<KindDefinition, 'tableName'>): string {
  const stem = /^tenant_(\w+)_integrations$/.exec(kind.tableName)?.[1] ?? kind.tableName
  return `idx_${stem}_tenant_page`
}

export function defineIntegrationModel(sequelize: Sequelize, kind: KindDefinition, refs: ReferenceColumnTypes): IntegrationModel {
  const Bound = class extends IntegrationRecord {}
  Bound.init(integrationAttributes(kind, refs), {
    sequelize,
    tableName: kind.tableName,
    modelName: `${kind.name}Integration`,
    indexes: [
      ...kind.indexes.map((i) => ({ name: i.name, fields: [...i.fields], unique: i.unique ?? false })),
      // Added here, not per kind, so no kind can forget it.
      { name: pageIndexName(kind), fields: ['tenantId', 'id'], unique: false },
    ],
  })
  return Bound
}
