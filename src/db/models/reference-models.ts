import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/**
 * `accounts`, `tenants` and `collaborators` belong to the main Delivr server. They are
 * declared here exactly as that server creates them, so a standalone install can create
 * them when missing; this service never alters or drops them.
 */
export class Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  declare id: string
  declare email: string
  declare name: string
  declare picture: string | null
  declare createdTime: number | null
  declare createdAt: CreationOptional<Date>
  declare updatedAt: CreationOptional<Date>
}

export class Tenant extends Model<InferAttributes<Tenant>, InferCreationAttributes<Tenant>> {
  declare id: string
  declare displayName: string
  declare createdBy: string
  declare createdAt: CreationOptional<Date>
  declare updatedAt: CreationOptional<Date>
}

export const ROLES = ['Viewer', 'Editor', 'Owner'] as const
export type Role = (typeof ROLES)[number]

export class Collaborator extends Model<InferAttributes<Collaborator>, InferCreationAttributes<Collaborator>> {
  declare id: CreationOptional<number>
  declare email: string
  declare accountId: string
  declare appId: string | null
  declare tenantId: string | null
  declare permission: Role | null
  declare isCreator: CreationOptional<boolean>
  declare createdAt: CreationOptional<Date>
  declare updatedAt: CreationOptional<Date>
}

/** Each app gets its own subclasses, so two Sequelize instances never share model state. */
export function defineReferenceModels(sequelize: Sequelize) {
  const AccountModel = class extends Account {}
  AccountModel.init(
    {
      id: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
      // Column-level UNIQUE matches the Delivr server's CREATE TABLE; this table is never altered.
      email: { type: DataTypes.STRING(255), allowNull: false, unique: true },
      name: { type: DataTypes.STRING(255), allowNull: false },
      picture: { type: DataTypes.STRING(255), allowNull: true },
      createdTime: { type: DataTypes.FLOAT, allowNull: true },
      createdAt: { type: DataTypes.DATE, allowNull: false },
      updatedAt: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'accounts', modelName: 'Account' },
  )

  const TenantModel = class extends Tenant {}
  TenantModel.init(
    {
      id: { type: DataTypes.CHAR(36).BINARY, primaryKey: true, allowNull: false },
      displayName: { type: DataTypes.STRING(255), allowNull: false },
      createdBy: {
        type: DataTypes.STRING(255),
        allowNull: false,
        references: { model: 'accounts', key: 'id' },
      },
      createdAt: { type: DataTypes.DATE, allowNull: false },
      updatedAt: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'tenants', modelName: 'Tenant' },
  )

  const CollaboratorModel = class extends Collaborator {}
  CollaboratorModel.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.STRING(255), allowNull: false },
      accountId: { type: DataTypes.STRING(255), allowNull: false, references: { model: 'accounts', key: 'id' } },
      appId: { type: DataTypes.STRING(255), allowNull: true },
      tenantId: { type: DataTypes.CHAR(36).BINARY, allowNull: true, references: { model: 'tenants', key: 'id' } },
      permission: { type: DataTypes.ENUM('Owner', 'Editor', 'Viewer'), allowNull: true },
      isCreator: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      createdAt: { type: DataTypes.DATE, allowNull: false },
      updatedAt: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'collaborators', modelName: 'Collaborator' },
  )

  return { Account: AccountModel, Tenant: TenantModel, Collaborator: CollaboratorModel }
}

export type ReferenceModels = ReturnType<typeof defineReferenceModels>
