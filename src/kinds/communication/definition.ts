import { verifySlack } from './slack.js'
import { Type } from '@sinclair/typebox'
import { internalField, recordedField, recordedInstant, textField, tokenField } from '../define/fields.js'
import { slackTokenRotation } from './slack-rotation.js'
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
      required: [],
      optional: [],
      connections: [
        { id: 'botToken', label: 'bot token', required: ['botToken'] },
        {
          id: 'tokenRotation',
          label: 'rotating bot token',
          required: ['refreshToken', 'slackClientId', 'slackClientSecret'],
          optional: ['botToken'],
          rotate: slackTokenRotation,
          verifies:
            'Renews the bot token with the refresh token (oauth.v2.access), then calls auth.test with it and records the workspace; always verified on create',
        },
      ],
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
    botToken: tokenField('Slack bot token; with token rotation, the current one (xoxe.xoxb-), which the service renews', {
      maxLength: 255,
      prefix: ['xoxb-', 'xoxe.xoxb-'],
    }),
    refreshToken: tokenField('Refresh token of a Slack app with token rotation; spent and replaced by the service at each renewal', {
      maxLength: 255,
      prefix: 'xoxe-',
    }),
    slackClientId: textField(
      Type.String({
        minLength: 3,
        maxLength: 64,
        pattern: '^[0-9]+\\.[0-9]+$',
        description: "The Slack app's client id (Basic Information)",
      }),
    ),
    slackClientSecret: tokenField("The Slack app's client secret", { maxLength: 128 }),
    botTokenExpiresAt: recordedInstant('When the current bot token of a rotating connection expires; the service renews it before'),
    tokenRenewalLease: internalField('text'),
    tokenRenewalLeaseUntil: internalField('instant'),
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
