import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto'
import { startProviderDouble, testToken, type ProviderDouble, type ReceivedRequest, type Reply } from './provider-double.js'

/** One valid integration per provider, with a fresh secret each time: what a tenant would send. */
export interface ProviderSample {
  kind: string
  provider: string
  providerField: string
  /** The secret field this provider takes. */
  secret: string
  /** A create body; `n` picks a distinct connection (another repository, host, app …). */
  body(tenantId: string, n?: number): Record<string, unknown>
  /** A fresh value for the secret. */
  newSecret(): string
  /**
   * For a provider called at a host the tenant gives (GitLab, GitHub Enterprise, Jenkins, Jira, Checkmate):
   * the body field naming that host, and its value for connection `n` on `origin`.
   */
  userHost?: { field: string; at(origin: string, n?: number): string }
}

let ecKey: string | undefined
let rsaKey: string | undefined

export function p8Key(): string {
  ecKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return ecKey
}

function serviceAccount(): string {
  rsaKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return JSON.stringify({
    type: 'service_account',
    project_id: 'acme-play',
    private_key_id: randomUUID().replace(/-/g, ''),
    private_key: rsaKey,
    client_email: 'delivr@acme-play.iam.gserviceaccount.com',
    token_uri: 'https://oauth2.googleapis.com/token',
  })
}

const sample = (s: Omit<ProviderSample, 'providerField'> & { providerField: string }): ProviderSample => s

export const SAMPLES: ProviderSample[] = [
  sample({
    kind: 'scm',
    provider: 'GITHUB',
    providerField: 'scmType',
    userHost: { field: 'repositoryUrl', at: (origin, n = 0) => `${origin}/acme/app-${n}` },
    secret: 'accessToken',
    newSecret: () => testToken('ghp_'),
    body: (tenantId, n = 0) => ({
      tenantId,
      scmType: 'GITHUB',
      displayName: 'GitHub',
      repositoryUrl: `https://github.com/acme/app-${n}`,
      accessToken: testToken('ghp_'),
    }),
  }),
  sample({
    kind: 'scm',
    provider: 'GITLAB',
    providerField: 'scmType',
    userHost: { field: 'repositoryUrl', at: (origin, n = 0) => `${origin}/acme/mobile/app-${n}` },
    secret: 'accessToken',
    newSecret: () => testToken('glpat-'),
    body: (tenantId, n = 0) => ({
      tenantId,
      scmType: 'GITLAB',
      displayName: 'GitLab',
      repositoryUrl: `https://gitlab.com/acme/mobile/app-${n}`,
      accessToken: testToken('glpat-'),
    }),
  }),
  sample({
    kind: 'scm',
    provider: 'BITBUCKET',
    providerField: 'scmType',
    secret: 'accessToken',
    newSecret: () => testToken('bbat-'),
    body: (tenantId, n = 0) => ({
      tenantId,
      scmType: 'BITBUCKET',
      displayName: 'Bitbucket',
      repositoryUrl: `https://bitbucket.org/acme/app-${n}`,
      accessToken: testToken('bbat-'),
    }),
  }),
  sample({
    kind: 'targets',
    provider: 'APP_STORE',
    providerField: 'targetType',
    secret: 'privateKey',
    newSecret: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    body: (tenantId, n = 0) => ({
      tenantId,
      targetType: 'APP_STORE',
      displayName: 'App Store',
      bundleId: `com.acme.app${n}`,
      issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
      keyId: 'ABCDE12345',
      privateKey: p8Key(),
    }),
  }),
  sample({
    kind: 'targets',
    provider: 'PLAY_STORE',
    providerField: 'targetType',
    secret: 'serviceAccountJson',
    newSecret: serviceAccount,
    body: (tenantId, n = 0) => ({
      tenantId,
      targetType: 'PLAY_STORE',
      displayName: 'Google Play',
      packageName: `com.acme.app${n}`,
      serviceAccountJson: serviceAccount(),
    }),
  }),
  sample({
    kind: 'ci-cd',
    provider: 'JENKINS',
    providerField: 'cicdType',
    userHost: { field: 'hostUrl', at: (origin) => `${origin}/jenkins` },
    secret: 'apiToken',
    newSecret: () => testToken('11'),
    body: (tenantId, n = 0) => ({
      tenantId,
      cicdType: 'JENKINS',
      displayName: 'Jenkins',
      hostUrl: 'https://ci.acme.test/jenkins/',
      username: `builder-${n}`,
      apiToken: testToken('11'),
    }),
  }),
  sample({
    kind: 'ci-cd',
    provider: 'GITHUB_ACTIONS',
    providerField: 'cicdType',
    userHost: { field: 'repositoryUrl', at: (origin, n = 0) => `${origin}/acme/app-${n}` },
    secret: 'accessToken',
    newSecret: () => testToken('ghp_'),
    body: (tenantId, n = 0) => ({
      tenantId,
      cicdType: 'GITHUB_ACTIONS',
      displayName: 'Actions',
      repositoryUrl: `https://github.com/acme/app-${n}`,
      accessToken: testToken('ghp_'),
    }),
  }),
  sample({
    kind: 'communication',
    provider: 'SLACK',
    providerField: 'communicationType',
    secret: 'botToken',
    newSecret: () => testToken('xoxb-'),
    // The Slack double answers one workspace per token, so another token is another workspace.
    body: (tenantId) => ({ tenantId, communicationType: 'SLACK', displayName: 'Slack', botToken: testToken('xoxb-') }),
  }),
  sample({
    kind: 'project-management',
    provider: 'JIRA',
    providerField: 'projectManagementType',
    userHost: { field: 'baseUrl', at: (origin, n = 0) => `${origin}/jira-${n}` },
    secret: 'apiToken',
    newSecret: () => testToken('ATATT'),
    body: (tenantId, n = 0) => ({
      tenantId,
      projectManagementType: 'JIRA',
      displayName: 'Jira',
      baseUrl: `https://acme-${n}.atlassian.net`,
      jiraType: 'CLOUD',
      email: 'release@acme.test',
      apiToken: testToken('ATATT'),
    }),
  }),
  sample({
    kind: 'test-management',
    provider: 'CHECKMATE',
    providerField: 'testManagementType',
    userHost: { field: 'baseUrl', at: (origin) => origin },
    secret: 'authToken',
    newSecret: () => testToken('cm_'),
    body: (tenantId, n = 0) => ({
      tenantId,
      testManagementType: 'CHECKMATE',
      displayName: 'Checkmate',
      baseUrl: 'https://checkmate.acme.test',
      orgId: `org-${n}`,
      authToken: testToken('cm_'),
    }),
  }),
]

/** The sample's create body with its tenant-given host on `origin` (a double); the sample must have a `userHost`. */
export function bodyAt(sample: ProviderSample, tenantId: string, origin: string, n = 0): Record<string, unknown> {
  if (!sample.userHost) throw new Error(`${sample.kind} ${sample.provider} is not called at a host the tenant gives`)
  return { ...sample.body(tenantId, n), [sample.userHost.field]: sample.userHost.at(origin, n) }
}

/**
 * An example body of the API explorer made sendable as a person would: each secret replaced by a real
 * one, and the tenant by theirs when given (in development the example already names the demo tenant).
 */
export function filledExample(value: Record<string, unknown>, kind: string, tenantId?: string): Record<string, unknown> {
  const sample = SAMPLES.find((s) => s.kind === kind && s.provider === value[s.providerField])
  if (!sample) throw new Error(`no sample for the ${kind} example ${JSON.stringify(value)}`)
  return { ...value, ...(tenantId ? { tenantId } : {}), [sample.secret]: sample.newSecret() }
}

/** The Slack workspace the double answers for a bot token: stable per token. */
export function slackTeamFor(token: string): string {
  return `T${createHash('sha256').update(token).digest('hex').slice(0, 10).toUpperCase()}`
}

/** Slack's auth.test accepting any bot token, answering with that token's workspace. */
export const slackAuthTest = (request: ReceivedRequest): Reply => {
  const token = String(request.headers.authorization).replace(/^Bearer /, '')
  return {
    headers: { 'x-oauth-scopes': 'chat:write,channels:read' },
    body: {
      ok: true,
      url: 'https://acme.slack.com/',
      team: 'Acme',
      user: 'delivr',
      team_id: slackTeamFor(token),
      user_id: 'U1',
      bot_id: 'B1',
    },
  }
}

/** A Slack double whose auth.test accepts any bot token, answering with that token's workspace. */
export async function slackWorkspaceDouble(t: Parameters<typeof startProviderDouble>[0]): Promise<ProviderDouble> {
  const slack = await startProviderDouble(t)
  slack.on('POST', '/auth.test', slackAuthTest)
  return slack
}

/**
 * The forms a secret takes where it could leak: as sent, as it reads inside JSON text (a log
 * line, a response body: a PEM's newlines and a key file's quotes come out escaped), and for a
 * key, each base64 line of it (unique to that key, unlike the PEM armour or the key file's start).
 */
export function leakForms(secret: string): string[] {
  let pem = secret
  try {
    const parsed = JSON.parse(secret) as { private_key?: unknown }
    if (typeof parsed?.private_key === 'string') pem = parsed.private_key
  } catch {
    // not a key file: the secret itself
  }
  const keyLines = pem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'))
  return [secret, JSON.stringify(secret).slice(1, -1), ...keyLines]
}

/** Whether `text` carries `secret` in any of its leak forms. */
export const leaks = (text: string, secret: string): boolean => leakForms(secret).some((form) => text.includes(form))
