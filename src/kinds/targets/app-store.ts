import {
  CheckList,
  isJsonObject,
  providerError,
  readJsonObject,
  stringAt,
  throwIfUnavailable,
  USER_AGENT,
  valueAt,
} from '../../verification/provider-http.js'
import type { VerificationResult, Verifier } from '../../verification/types.js'
import { appStoreKeyOf, signAppStoreToken, textValue as text } from './app-store-token.js'

const PROVIDER = 'App Store Connect'
const CHECKS = ['authenticated', 'app-listed'] as const
/** Verification's own token: long enough for one call. */
const TOKEN_LIFETIME_SECONDS = 10 * 60

type AppStoreFacts = { appStoreAppId: string | null; appName: string | null; bundleId: string | null }

const isApp = (bundleId: string) => (app: unknown) => isJsonObject(app) && stringAt(app, 'attributes', 'bundleId') === bundleId

export const verifyAppStore: Verifier = async (request, context) => {
  const bundleId = text(request, 'bundleId')
  const expectedId = text(request, 'appStoreAppId')
  const checks = new CheckList(CHECKS)
  const facts: AppStoreFacts = { appStoreAppId: null, appName: null, bundleId: null }
  const result = (): VerificationResult =>
    checks.result(`Verified: the key can read ${facts.appName ?? bundleId} in App Store Connect`, {
      facts: { ...facts },
      credential: { expiresAt: null, scopes: null },
    })

  const privateKey = request.secrets.privateKey ?? ''
  if (privateKey.trim() === '') {
    checks.fail('authenticated', {
      detail: 'no private key was given',
      message: 'No App Store Connect private key was given',
      skipped: 'no private key was given',
    })
    return result()
  }
  const signed = await signAppStoreToken(appStoreKeyOf(request), { lifetimeSeconds: TOKEN_LIFETIME_SECONDS })
  if (signed === undefined) {
    checks.fail('authenticated', {
      detail: 'the private key is not a PKCS#8 P-256 key (.p8 file), so no token could be signed',
      message: 'The private key cannot sign App Store Connect tokens: it must be the .p8 key App Store Connect issued',
      skipped: 'no token could be signed',
    })
    return result()
  }

  const res = await context.http.request({
    url: `${context.apis.appStore}/v1/apps?filter[bundleId]=${encodeURIComponent(bundleId)}`,
    headers: { Authorization: `Bearer ${signed.token}`, Accept: 'application/json', 'User-Agent': USER_AGENT },
    target: 'configured',
  })
  throwIfUnavailable(PROVIDER, res)
  if (res.status === 401) {
    checks.fail('authenticated', {
      detail: 'App Store Connect refused the token signed with this key',
      message: 'App Store Connect refused the key, key ID or issuer ID',
      skipped: 'the key was refused',
    })
    return result()
  }
  if (res.status === 403) {
    checks.pass('authenticated', 'App Store Connect accepted the key')
    checks.fail('app-listed', {
      detail: 'the key is not allowed to list apps (403)',
      message: 'App Store Connect does not let this key list apps; give the key a role with access to the app',
      skipped: 'the key cannot list apps',
    })
    return result()
  }
  const apps = valueAt(readJsonObject(res), 'data')
  if (res.status !== 200 || !Array.isArray(apps)) throw providerError(PROVIDER, res)
  checks.pass('authenticated', 'App Store Connect accepted the key')

  // the filter may match more than the exact bundle ID
  const app: unknown = apps.find(isApp(bundleId))
  const appId = stringAt(app, 'id') ?? null
  if (app === undefined) {
    checks.fail('app-listed', {
      detail: `no app with bundle ID ${bundleId} is listed for this key`,
      message: `App Store Connect lists no app with bundle ID ${bundleId} for this key`,
      skipped: 'the app is not listed',
    })
  } else if (expectedId !== '' && appId !== expectedId) {
    checks.fail('app-listed', {
      detail: `the app with bundle ID ${bundleId} has Apple ID ${appId ?? 'unknown'}, not ${expectedId}`,
      message: `The app with bundle ID ${bundleId} has Apple ID ${appId ?? 'unknown'}, not the configured ${expectedId}`,
      skipped: 'the app ID does not match',
    })
  } else {
    facts.appStoreAppId = appId
    facts.appName = stringAt(app, 'attributes', 'name') ?? null
    facts.bundleId = bundleId
    checks.pass('app-listed', `${facts.appName ?? bundleId} (${bundleId}) is listed with Apple ID ${appId ?? 'unknown'}`)
  }
  return result()
}
