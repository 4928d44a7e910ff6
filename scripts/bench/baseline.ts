import http from 'node:http'
import mysql from 'mysql2/promise'
import { createCredentialCipher } from '../../src/crypto/credential-cipher.js'
import { parseCredentialKeys } from '../../src/crypto/keyring.js'
import { baselineHandlers, HttpError } from './baseline-handlers.js'

/**
 * The bare baseline the bench compares the service with: node:http and mysql2, the same
 * queries and authorization, no framework, no validation, no serialization schema.
 * Configured like the service: DATABASE_URL, AUTH_JWT_SECRET, CREDENTIAL_KEYS, HOST, PORT, DB_POOL_MAX.
 */
const env = process.env
const pool = mysql.createPool({ uri: env.DATABASE_URL, connectionLimit: Number(env.DB_POOL_MAX ?? 10), timezone: 'Z' })
const cipher = createCredentialCipher(parseCredentialKeys(env.CREDENTIAL_KEYS ?? '', env.CREDENTIAL_ACTIVE_KEY))
// Imported once: given raw bytes, jose would import the key again on every verification.
const jwtKey = await crypto.subtle.importKey(
  'raw',
  new TextEncoder().encode(env.AUTH_JWT_SECRET),
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['verify'],
)
const handlers = baselineHandlers(pool, cipher, jwtKey)

const BASE = '/api/v1/integrations/scm'
const ONE = /^\/api\/v1\/integrations\/scm\/([^/]+)(\/credentials)?$/
const TOKEN = /^\/api\/v1\/integrations\/targets\/([^/]+)\/access-token$/

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const [path = '', query = ''] = (req.url ?? '').split('?')
  const auth = req.headers.authorization
  if (path === '/health') return send(res, 200, { status: 'ok' })
  if (path === BASE && req.method === 'GET') {
    const params = new URLSearchParams(query)
    const limit = Math.min(100, Math.max(1, Number.parseInt(params.get('limit') ?? '20', 10) || 20))
    return send(res, 200, await handlers.list(auth, params.get('tenantId') ?? '', limit))
  }
  if (path === BASE && req.method === 'POST') {
    const created = await handlers.create(auth, JSON.parse(await readBody(req)) as Record<string, string>)
    return send(res, 201, created, { location: `${BASE}/${String(created.id)}` })
  }
  const token = TOKEN.exec(path)
  if (token && req.method === 'POST') {
    await readBody(req)
    return send(res, 200, await handlers.accessToken(auth, token[1]!), { 'cache-control': 'no-store' })
  }
  const match = ONE.exec(path)
  if (match && req.method === 'GET') {
    if (!match[2]) return send(res, 200, await handlers.get(auth, match[1]!))
    return send(res, 200, await handlers.credentials(auth, match[1]!), { 'cache-control': 'no-store' })
  }
  if (match && !match[2] && req.method === 'PATCH') {
    return send(res, 200, await handlers.patch(auth, match[1]!, JSON.parse(await readBody(req)) as Record<string, string>))
  }
  if (match && match[2] && req.method === 'PUT') {
    return send(res, 200, await handlers.replaceCredentials(auth, match[1]!, JSON.parse(await readBody(req)) as Record<string, string>))
  }
  if (match && !match[2] && req.method === 'DELETE') {
    await handlers.remove(auth, match[1]!)
    res.writeHead(204)
    return res.end()
  }
  send(res, 404, { message: 'Not found' })
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (err instanceof HttpError) return send(res, err.status, { message: err.message })
    console.error(err)
    send(res, 500, { message: 'Internal error' })
  })
})

server.listen(Number(env.PORT ?? 8090), env.HOST ?? '127.0.0.1')

process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void pool.end().finally(() => process.exit(0))
})
