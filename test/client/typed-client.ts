import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const CLIENT = `import createClient from 'openapi-fetch'
import type { paths } from './schema.js'

export type Client = ReturnType<typeof createApiClient>

export function createApiClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } })
}
`

// What a client author writes. Each @ts-expect-error line must fail to compile: if the document lost
// its typing (any, unknown, a merged or open body), the directive itself becomes the error.
const USAGE = `import type { Client } from './client.js'

type Status = 'PENDING' | 'VALID' | 'INVALID' | 'EXPIRED'

export interface Lifecycle {
  id: string
  status: Status
  hasAccessToken: boolean
  fingerprint: string | null
  listed: string[]
  nextCursor: string | null
  renamed: string
  verdict: 'VALID' | 'INVALID' | 'EXPIRED'
  checks: { name: string; ok: boolean; detail: string }[]
  recorded: Status
  deletedStatus: number
  missingCode: string | undefined
}

export async function lifecycle(client: Client, tenantId: string, accessToken: string): Promise<Lifecycle> {
  const repositoryUrl = 'https://github.com/acme/mobile-app'
  const created = await client.POST('/api/v1/integrations/scm', {
    body: { tenantId, scmType: 'GITHUB', displayName: 'Mobile', repositoryUrl, accessToken, githubOrganization: 'acme' },
  })
  if (!created.data) throw new Error(created.error.message)
  const { id } = created.data

  // @ts-expect-error a GITHUB body needs repositoryUrl
  void client.POST('/api/v1/integrations/scm', { body: { tenantId, scmType: 'GITHUB', displayName: 'Mobile', accessToken } })
  // @ts-expect-error GitHub-only fields do not belong on a GITLAB body (one closed body per provider)
  void client.POST('/api/v1/integrations/scm', { body: { tenantId, scmType: 'GITLAB', displayName: 'Mobile', repositoryUrl, accessToken, githubOrganization: 'acme' } })
  // @ts-expect-error the provider is not one of GITHUB, GITLAB, BITBUCKET
  void client.POST('/api/v1/integrations/scm', { body: { tenantId, scmType: 'SVN', displayName: 'Mobile', repositoryUrl, accessToken } })
  // @ts-expect-error secrets are write-only: a response has no accessToken
  void created.data.accessToken
  // @ts-expect-error a PATCH body is typed too: displayName is a string
  void client.PATCH('/api/v1/integrations/scm/{id}', { params: { path: { id } }, body: { displayName: 42 } })
  // @ts-expect-error no such path
  void client.GET('/api/v1/integrations/scm/{id}/owner', { params: { path: { id } } })

  const got = await client.GET('/api/v1/integrations/scm/{id}', { params: { path: { id } } })
  if (!got.data) throw new Error(got.error.message)

  const list = await client.GET('/api/v1/integrations/scm', { params: { query: { tenantId, scmType: 'GITHUB', verificationStatus: 'PENDING' } } })
  if (!list.data) throw new Error(list.error.message)

  const patched = await client.PATCH('/api/v1/integrations/scm/{id}', { params: { path: { id } }, body: { displayName: 'Mobile (iOS)' } })
  if (!patched.data) throw new Error(patched.error.message)

  const verified = await client.POST('/api/v1/integrations/scm/{id}/verify', { params: { path: { id } } })
  if (!verified.data) throw new Error(verified.error.message)
  const { result, integration } = verified.data
  // @ts-expect-error the verdict is VALID, INVALID or EXPIRED
  if (result.verdict === 'UNKNOWN') throw new Error('unreachable')

  // A token to act with: no body for every provider, options typed per provider where a minter takes them.
  const token = await client.POST('/api/v1/integrations/targets/{id}/access-token', { params: { path: { id } } })
  if (token.data) {
    const answer: { accessToken: string; tokenType: 'Bearer' | 'Basic'; expiresAt: string | null; shortLived: boolean; grants: string[] | null } = token.data
    void answer
  }
  void client.POST('/api/v1/integrations/scm/{id}/access-token', { params: { path: { id } }, body: {} })
  void client.POST('/api/v1/integrations/targets/{id}/access-token', { params: { path: { id } }, body: { targetType: 'APP_STORE', scope: ['GET /v1/apps'] } })
  // @ts-expect-error App Store options on a body that names another provider
  void client.POST('/api/v1/integrations/targets/{id}/access-token', { params: { path: { id } }, body: { targetType: 'PLAY_STORE', scope: ['GET /v1/apps'] } })
  // @ts-expect-error source control tokens take no options
  void client.POST('/api/v1/integrations/scm/{id}/access-token', { params: { path: { id } }, body: { scope: ['repo'] } })

  const deleted = await client.DELETE('/api/v1/integrations/scm/{id}', { params: { path: { id } } })
  const missing = await client.GET('/api/v1/integrations/scm/{id}', { params: { path: { id } } })

  return {
    id,
    status: got.data.verificationStatus,
    hasAccessToken: got.data.hasAccessToken,
    fingerprint: got.data.accessTokenFingerprint,
    listed: list.data.items.map((item) => item.id),
    nextCursor: list.data.nextCursor,
    renamed: patched.data.displayName,
    verdict: result.verdict,
    checks: result.checks,
    recorded: integration.verificationStatus,
    deletedStatus: deleted.response.status,
    missingCode: missing.error?.code,
  }
}
`

/** Generates types for the document and writes a client and its usage beside them; returns the folder. */
export async function writeTypedClient(doc: unknown): Promise<string> {
  // Under the repository so `openapi-fetch` resolves from our node_modules; tsconfig.json leaves .tap/ out.
  fs.mkdirSync(path.join(ROOT, '.tap'), { recursive: true })
  const dir = fs.mkdtempSync(path.join(ROOT, '.tap', 'generated-client-'))
  // Defaults are the server's to fill, so a request field that has one stays optional for the caller.
  const ast = await openapiTS(structuredClone(doc) as OpenAPI3, { defaultNonNullable: false })
  fs.writeFileSync(path.join(dir, 'schema.ts'), astToString(ast))
  fs.writeFileSync(path.join(dir, 'client.ts'), CLIENT)
  fs.writeFileSync(path.join(dir, 'usage.ts'), USAGE)
  return dir
}

/**
 * Compiles the folder as the repository compiles its own code; resolves to every diagnostic, formatted.
 * Runs in a worker: seconds of compiling on the main thread would stall the server under test.
 */
export function typeCheck(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { typeCheck: dir } })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

if (!isMainThread && typeof workerData?.typeCheck === 'string') parentPort?.postMessage(compile(workerData.typeCheck))

function compile(dir: string): string[] {
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    noUncheckedIndexedAccess: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    verbatimModuleSyntax: true,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    skipLibCheck: true,
  }
  const files = ['schema.ts', 'client.ts', 'usage.ts'].map((f) => path.join(dir, f))
  const program = ts.createProgram(files, options)
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  }
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host).trim())
}
