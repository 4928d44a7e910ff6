import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generate } from 'selfsigned'

export interface TestCertificate {
  key: string
  cert: string
}

let pending: Promise<TestCertificate> | undefined

function selfSignedForLocalhost(): Promise<TestCertificate> {
  return generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }))
}

/** A self-signed certificate for localhost and 127.0.0.1, made at run time once per test process. */
export function localhostCertificate(): Promise<TestCertificate> {
  pending ??= selfSignedForLocalhost()
  return pending
}

/**
 * Another self-signed certificate for the same names, with a key of its own: valid for the host and in
 * date, but issued by nobody a service trusting `localhostCertificate` trusts.
 */
export function untrustedLocalhostCertificate(): Promise<TestCertificate> {
  return selfSignedForLocalhost()
}

/** `localhostCertificate` as a PEM file, for OUTBOUND_CA_FILE; removed when the test ends. */
export async function localhostCaFile(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivr-ca-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'ca.pem')
  fs.writeFileSync(file, (await localhostCertificate()).cert)
  return file
}
