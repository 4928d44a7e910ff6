import { Type } from '@sinclair/typebox'
import { verifyCheckmate } from './checkmate.js'
import { baseUrlField, textField, tokenField } from '../define/fields.js'
import { originOf, parseBaseUrl } from '../define/https-url.js'
import { defineKind } from '../define/kind.js'

export const testManagement = defineKind({
  segment: 'test-management',
  name: 'TestManagement',
  title: 'test management',
  tableName: 'tenant_test_management_integrations',
  providerField: 'testManagementType',
  providers: [
    {
      id: 'CHECKMATE',
      label: 'Checkmate',
      required: ['baseUrl', 'orgId', 'authToken'],
      optional: [],
      example: { baseUrl: 'https://checkmate.acme.com', orgId: '42', authToken: '<your-Checkmate-API-token>' },
      verify: verifyCheckmate,
      verifies: "Lists the organisation's projects with the token",
    },
  ],
  fields: {
    baseUrl: baseUrlField('Checkmate URL (https)', 'https://checkmate.acme.com'),
    orgId: textField(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Checkmate organisation id' })),
    authToken: tokenField('Checkmate API token', { maxLength: 1024 }),
  },
  indexes: [
    { name: 'idx_test_management_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_test_management_org', fields: ['tenantId', 'testManagementType', 'baseUrl', 'orgId'], unique: true },
  ],
  duplicateMessage: 'This tenant already has this Checkmate organisation connected',

  normalize: (values) => ({ ...values, baseUrl: parseBaseUrl(String(values.baseUrl), 'baseUrl', 'https://checkmate.acme.com').normalized }),

  secretOrigin: (values) => originOf(values.baseUrl),
})
