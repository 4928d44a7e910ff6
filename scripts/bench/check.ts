import { createPublicKey, randomBytes } from 'node:crypto'
import { jwtVerify } from 'jose'
import type { DataSet } from './seed.js'

const BASE = '/api/v1/integrations/scm'

async function call(url: string, path: string, token: string, body?: object, method = body ? 'POST' : 'GET') {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5_000),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> | null }
}

function expect(name: string, what: string, ok: boolean) {
  if (!ok) throw new Error(`${name} answers wrongly: ${what}`)
}

/**
 * Before any load: one request of each scenario, checked for what a user would notice,
 * plus the refusals that prove the same authorization runs, so the baseline is a fair one.
 */
export async function checkServer(name: string, url: string, data: DataSet): Promise<void> {
  const [first, second] = data.scm as [DataSet['scm'][number], DataSet['scm'][number]]
  const owner = data.tenants[first.tenant]!
  const stranger = data.tenants.find((t) => t !== owner)!

  const one = await call(url, `${BASE}/${first.id}`, owner.token)
  expect(name, `GET one ${one.status}`, one.status === 200 && one.json?.id === first.id && one.json.hasAccessToken === true)
  expect(name, 'GET one returns a secret', !('accessToken' in (one.json ?? {})))
  const hidden = await call(url, `${BASE}/${first.id}`, stranger.token)
  expect(name, `GET one by a non-member: ${hidden.status}, not 404`, hidden.status === 404)

  const list = await call(url, `${BASE}?tenantId=${owner.id}&limit=50`, owner.token)
  const items = (list.json?.items ?? []) as { tenantId: string }[]
  expect(name, `GET list ${list.status}, ${items.length} items`, list.status === 200 && items.length === Math.min(50, owner.scmCount))
  expect(
    name,
    'GET list: a next-page cursor exactly when more than a page remains',
    (list.json?.nextCursor != null) === owner.scmCount > 50,
  )
  expect(
    name,
    'GET list shows another tenant',
    items.every((i) => i.tenantId === owner.id),
  )

  const repositoryUrl = `https://github.com/bench-check/${randomBytes(4).toString('hex')}`
  const body = { tenantId: stranger.id, scmType: 'GITHUB', displayName: 'Check', repositoryUrl, accessToken: 'ghp_check' }
  const created = await call(url, BASE, stranger.token, body)
  expect(name, `POST create ${created.status}`, created.status === 201 && created.json?.repositoryUrl === repositoryUrl)
  expect(name, 'POST create returns a secret', !('accessToken' in (created.json ?? {})))
  const duplicate = await call(url, BASE, stranger.token, body)
  expect(name, `POST create of a duplicate: ${duplicate.status}, not 409`, duplicate.status === 409)

  const createdPath = `${BASE}/${String(created.json?.id)}`
  const patched = await call(url, createdPath, stranger.token, { displayName: 'Checked' }, 'PATCH')
  expect(name, `PATCH ${patched.status}`, patched.status === 200 && patched.json?.displayName === 'Checked')
  const foreignPatch = await call(url, createdPath, owner.token, { displayName: 'Nope' }, 'PATCH')
  expect(name, `PATCH by a non-member: ${foreignPatch.status}, not 404`, foreignPatch.status === 404)
  const replaced = await call(url, `${createdPath}/credentials`, stranger.token, { accessToken: 'ghp_check_replaced' }, 'PUT')
  expect(
    name,
    `PUT credentials ${replaced.status}`,
    replaced.status === 200 && replaced.json?.verificationStatus === 'PENDING' && replaced.json.hasAccessToken === true,
  )
  expect(name, 'PUT credentials returns a secret', !JSON.stringify(replaced.json).includes('ghp_check_replaced'))
  const foreignDelete = await call(url, createdPath, owner.token, undefined, 'DELETE')
  expect(name, `DELETE by a non-member: ${foreignDelete.status}, not 404`, foreignDelete.status === 404)
  const removed = await call(url, createdPath, stranger.token, undefined, 'DELETE')
  expect(name, `DELETE ${removed.status}`, removed.status === 204)
  const gone = await call(url, createdPath, stranger.token)
  expect(name, `GET after DELETE: ${gone.status}, not 404`, gone.status === 404)

  const secret = await call(url, `${BASE}/${second.id}/credentials`, data.serviceToken)
  const credentials = secret.json?.credentials as { accessToken?: string } | undefined
  expect(name, `GET credentials ${secret.status}`, secret.status === 200 && credentials?.accessToken === second.accessToken)
  const refused = await call(url, `${BASE}/${second.id}/credentials`, data.tenants[second.tenant]!.token)
  expect(name, `GET credentials with a user token: ${refused.status}, not 403`, refused.status === 403)

  const target = data.appStore[0]!
  const tokenPath = `/api/v1/integrations/targets/${target.id}/access-token`
  const minted = await call(url, tokenPath, data.serviceToken, undefined, 'POST')
  const accessToken = String(minted.json?.accessToken)
  expect(name, `POST access-token ${minted.status}`, minted.status === 200 && minted.json?.shortLived === true)
  const key = createPublicKey(data.appStoreKey.publicKey)
  const verified = await jwtVerify(accessToken, key, {
    algorithms: ['ES256'],
    issuer: data.appStoreKey.issuerId,
    audience: 'appstoreconnect-v1',
  }).catch(() => undefined)
  expect(name, 'POST access-token: a token App Store Connect would accept', verified?.protectedHeader.kid === data.appStoreKey.keyId)
  const again = await call(url, tokenPath, data.serviceToken, undefined, 'POST')
  expect(name, 'POST access-token: the second answer is the cached token', again.json?.accessToken === accessToken)
  const user = await call(url, tokenPath, data.tenants[target.tenant]!.token, undefined, 'POST')
  expect(name, `POST access-token with a user token: ${user.status}, not 403`, user.status === 403)
}

/** The value at a field name as fieldNames gives it. */
const valueAt = (value: unknown, name: string): unknown =>
  name === '' ? value : name.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], value)

/** The names of an answer's fields, nested objects' too (`checks.0.name`), sorted. */
function fieldNames(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix]
  const entries = Array.isArray(value) ? value.slice(0, 1).map((v, i) => [String(i), v] as const) : Object.entries(value)
  return entries.flatMap(([k, v]) => fieldNames(v, prefix ? `${prefix}.${k}` : k)).sort()
}

/**
 * Both servers answer a read with the same fields (so the baseline reads and sends what the service does), and the
 * same values for the same stored row.
 */
export async function checkSameAnswers(serviceUrl: string, baselineUrl: string, data: DataSet): Promise<void> {
  const row = data.scm[0]!
  const owner = data.tenants[row.tenant]!
  for (const path of [`${BASE}/${row.id}`, `${BASE}?tenantId=${owner.id}&limit=5`]) {
    const [service, baseline] = await Promise.all([call(serviceUrl, path, owner.token), call(baselineUrl, path, owner.token)])
    const [s, b] = [fieldNames(service.json), fieldNames(baseline.json)]
    const missing = s.filter((f) => !b.includes(f))
    const extra = b.filter((f) => !s.includes(f))
    expect('baseline', `GET ${path}: fields the service answers and it does not: ${missing.join(', ')}`, missing.length === 0)
    expect('baseline', `GET ${path}: fields the service does not answer: ${extra.join(', ')}`, extra.length === 0)
    const differing = s.filter((f) => JSON.stringify(valueAt(service.json, f)) !== JSON.stringify(valueAt(baseline.json, f)))
    expect('baseline', `GET ${path}: other values than the service's in ${differing.join(', ')}`, differing.length === 0)
  }
}
