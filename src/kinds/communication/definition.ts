import { verifySlack } from './slack.js'
import { recordedField, tokenField } from '../define/fields.js'
import { defineKind } from '../define/kind.js'

export const communication = defineKind({
  segment: 'communication',
  name: 'Communication',
  title: 'communication',
  tableName: 'tenant_communication_integrations',
  providerField: 'communicationType',
  providers: [
    {
      id: 'SLACK',
      label: 'Slack',
      required: ['botToken'],
      optional: [],
      example: { botToken: 'xoxb-<your-Slack-bot-token>' },
      verifies: 'Calls auth.test with the bot token and records the workspace it belongs to; always verified on create',
      verifyOnCreate: true,
      verify: verifySlack,
      recordFacts: ({ facts }) => ({
        workspaceId: typeof facts.teamId === 'string' ? facts.teamId : undefined,
        workspaceName: typeof facts.team === 'string' ? facts.team : undefined,
      }),
    },
  ],
  fields: {
    botToken: tokenField('Slack bot token', { maxLength: 255, prefix: 'xoxb-' }),
    workspaceId: recordedField('Slack workspace (team) id, recorded by verification', 64),
    workspaceName: recordedField('Slack workspace name, recorded by verification'),
  },
  indexes: [
    { name: 'idx_communication_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_communication_workspace', fields: ['tenantId', 'communicationType', 'workspaceId'], unique: true },
  ],
  duplicateMessage: 'This tenant already has this Slack workspace connected',
  normalize: (values) => values,
})
