import { Type } from '@sinclair/typebox'
import { DataTypes } from 'sequelize'
import { FieldError } from '../../http/errors.js'
import { verifyJira } from './jira.js'
import { StringEnum } from '../../http/common-schemas.js'
import { baseUrlField, textField, tokenField } from '../define/fields.js'
import { originOf, parseBaseUrl } from '../define/https-url.js'
import { defineKind } from '../define/kind.js'

const JIRA_TYPES = ['CLOUD', 'SERVER', 'DATA_CENTER'] as const

export const projectManagement = defineKind({
  segment: 'project-management',
  name: 'ProjectManagement',
  title: 'project management',
  tableName: 'tenant_project_management_integrations',
  providerField: 'projectManagementType',
  providers: [
    {
      id: 'JIRA',
      label: 'Jira',
      required: ['baseUrl', 'jiraType', 'apiToken'],
      optional: ['email'],
      example: { baseUrl: 'https://acme.atlassian.net', jiraType: 'CLOUD', email: 'release@acme.com', apiToken: '<your-Jira-API-token>' },
      verify: verifyJira,
      verifies: 'Reads /myself: REST API 3 with email and API token (Cloud), REST API 2 with a personal access token (Server, Data Center)',
      tokenType: (values) => (values.jiraType === 'CLOUD' ? 'Basic' : 'Bearer'),
    },
  ],
  fields: {
    baseUrl: baseUrlField('Jira site URL (https)', 'https://acme.atlassian.net'),
    jiraType: {
      schema: StringEnum(JIRA_TYPES, { description: 'CLOUD uses email + API token; SERVER and DATA_CENTER a personal access token' }),
      column: { type: DataTypes.ENUM(...JIRA_TYPES), allowNull: true },
      verified: true,
      patchable: true,
    },
    email: textField(Type.String({ format: 'email', maxLength: 255, description: 'Atlassian account email (Jira Cloud)' })),
    apiToken: tokenField('Jira Cloud API token, or a Server/Data Center personal access token', { maxLength: 1024 }),
  },
  indexes: [
    { name: 'idx_project_management_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_project_management_site', fields: ['tenantId', 'projectManagementType', 'baseUrl'], unique: true },
  ],
  duplicateMessage: 'This tenant already has this Jira site connected',

  normalize(values) {
    if (values.jiraType === 'CLOUD' && typeof values.email !== 'string') {
      throw new FieldError('email', 'is required for Jira Cloud (it signs in with email and API token)')
    }
    return { ...values, baseUrl: parseBaseUrl(String(values.baseUrl), 'baseUrl', 'https://acme.atlassian.net').normalized }
  },

  secretOrigin: (values) => originOf(values.baseUrl),
})
