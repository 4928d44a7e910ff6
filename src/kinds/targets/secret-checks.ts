import { createPrivateKey } from 'node:crypto'

function privateKey(pem: string) {
  try {
    return createPrivateKey(pem)
  } catch {
    return undefined
  }
}

/** The .p8 key App Store Connect issues: a PEM PKCS#8 EC P-256 private key. */
export function checkP8Key(value: unknown): string | undefined {
  const key = typeof value === 'string' ? privateKey(value) : undefined
  if (key?.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return undefined
  return 'must be the .p8 private key App Store Connect issued (a PEM EC P-256 private key)'
}

/** A Google service account key file: JSON with client_email and a usable RSA private_key. */
export function checkServiceAccountJson(value: unknown): string | undefined {
  const problem = 'must be a Google service account key JSON with client_email and private_key'
  let parsed: unknown
  try {
    parsed = JSON.parse(String(value))
  } catch {
    return `${problem}; it is not valid JSON`
  }
  if (typeof parsed !== 'object' || parsed === null) return problem
  const { type, client_email: email, private_key: pem } = parsed as Record<string, unknown>
  if (type !== 'service_account') return `${problem}; type must be "service_account"`
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) return `${problem}; client_email is missing or not an email`
  // Google issues PKCS#8 keys; the verifier signs with exactly that form.
  if (typeof pem !== 'string' || !pem.includes('BEGIN PRIVATE KEY') || privateKey(pem)?.asymmetricKeyType !== 'rsa') {
    return `${problem}; private_key is not a PEM (PKCS#8) RSA private key`
  }
  return undefined
}
