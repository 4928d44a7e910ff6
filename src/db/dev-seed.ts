import type { ReferenceModels } from './models/reference-models.js'

export const DEMO = {
  accountId: 'demo-account',
  email: 'demo@delivr.local',
  tenantId: '00000000-0000-4000-8000-00000000de00',
} as const

/** Development only: a demo account that owns a demo tenant, so the service can be tried at once. */
export async function seedDemo(models: ReferenceModels): Promise<typeof DEMO> {
  await models.Account.findOrCreate({
    where: { id: DEMO.accountId },
    defaults: { id: DEMO.accountId, email: DEMO.email, name: 'Demo User', picture: null, createdTime: Date.now() },
  })
  await models.Tenant.findOrCreate({
    where: { id: DEMO.tenantId },
    defaults: { id: DEMO.tenantId, displayName: 'Demo tenant', createdBy: DEMO.accountId },
  })
  await models.Collaborator.findOrCreate({
    where: { accountId: DEMO.accountId, tenantId: DEMO.tenantId, appId: null },
    defaults: { email: DEMO.email, accountId: DEMO.accountId, tenantId: DEMO.tenantId, appId: null, permission: 'Owner', isCreator: true },
  })
  return DEMO
}
