import { generate } from 'selfsigned'

export interface TestCertificate {
  key: string
  cert: string
}

let pending: Promise<TestCertificate> | undefined

/** A self-signed certificate for localhost and 127.0.0.1, made at run time once per test process. */
export function localhostCertificate(): Promise<TestCertificate> {
  pending ??= generate([{ name: 'commonName', value: 'localhost' }], {
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
  return pending
}
