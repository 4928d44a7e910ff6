import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage } from 'node:http'
import autoload from '@fastify/autoload'
import sensible from '@fastify/sensible'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import authPlugin from '../plugins/auth.js'
import configPlugin from '../plugins/config.js'
import dbAvailabilityPlugin from '../plugins/db-availability.js'
import dbPlugin from '../plugins/db.js'
import devSeedPlugin from '../plugins/dev-seed.js'
import integrationServicesPlugin from '../plugins/integration-services.js'
import webhooksPlugin from '../plugins/webhooks.js'
import schedulerPlugin from '../plugins/scheduler.js'
import errorsPlugin, { clientErrorHandler, frameworkErrors } from '../plugins/errors.js'
import lifecyclePlugin from '../plugins/lifecycle.js'
import metricsPlugin from '../plugins/metrics.js'
import outboundPlugin from '../plugins/outbound.js'
import rateLimitPlugin from '../plugins/rate-limit.js'
import schemasPlugin from '../plugins/schemas.js'
import securityHeadersPlugin from '../plugins/security-headers.js'
import loadSheddingPlugin from '../plugins/load-shedding.js'
import credentialsPlugin from '../plugins/credentials.js'
import swaggerPlugin from '../plugins/swagger.js'
import transportResponsesPlugin from '../plugins/transport-responses.js'
import { loadConfig, type Config } from './config/load-config.js'
import { parseJsonAllowingEmpty } from './http/json-body.js'
import { lazySerializers } from './http/lazy-serializers.js'
import { KINDS } from './kinds/index.js'
import { secretFields } from './kinds/define/kind.js'

export interface BuildOptions {
  config?: Config
  /** Where log lines go (tests capture them); stdout otherwise. */
  logStream?: NodeJS.WritableStream
  /** Set false to silence logging entirely. */
  logger?: boolean
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

// Node looks for requests past their deadline on this interval (30 s by default, which let a
// trickled body hold its connection long past REQUEST_TIMEOUT_MS).
const TIMEOUT_CHECK_INTERVAL_MS = 1000

/** Keeps the gateway's x-request-id when it is sane, so one id follows a request across services. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

export function loggerOptions(config: Config, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  const secrets = [...new Set(KINDS.flatMap(secretFields))]
  const pretty = !stream && config.logFormat === 'pretty'
  return {
    level: config.logLevel,
    stream,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        ...secrets.flatMap((f) => [f, `*.${f}`, `body.${f}`]),
      ],
      censor: '[redacted]',
    },
  }
}

export async function buildApp(options: BuildOptions = {}) {
  const config = options.config ?? loadConfig(process.env)
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(config, options.logStream),
    genReqId: requestId,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    // Node enforces the headers deadline (60 s unless given at creation) on a request whose body
    // is still arriving, not the request deadline: both are the request timeout here.
    http: {
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    // A hop count is valid at run time (proxy-addr) though Fastify's typings omit it.
    trustProxy: config.http.trustProxy as FastifyServerOptions['trustProxy'],
    frameworkErrors,
    clientErrorHandler,
    schemaController: { compilersFactory: { buildSerializer: lazySerializers() } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Connections beyond the bound are closed as they arrive, before any byte is read.
  if (config.http.maxConnections > 0) app.server.maxConnections = config.http.maxConnections

  // JSON in and out: a text/plain body is refused with 415 rather than parsed into a string.
  app.removeContentTypeParser('text/plain')
  parseJsonAllowingEmpty(app)

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  // Explicit order: everything routes depend on is ready before they load.
  await app.register(configPlugin, { config })
  await app.register(lifecyclePlugin)
  await app.register(sensible)
  await app.register(errorsPlugin)
  await app.register(schemasPlugin)
  await app.register(swaggerPlugin)
  await app.register(transportResponsesPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(loadSheddingPlugin)
  await app.register(dbPlugin)
  await app.register(credentialsPlugin)
  await app.register(dbAvailabilityPlugin)
  await app.register(metricsPlugin)
  await app.register(authPlugin)
  await app.register(rateLimitPlugin)
  await app.register(outboundPlugin)
  await app.register(integrationServicesPlugin)
  await app.register(webhooksPlugin)
  await app.register(schedulerPlugin)
  if (config.devSeed) await app.register(devSeedPlugin)
  await app.register(autoload, {
    dir: fileURLToPath(new URL('../routes', import.meta.url)),
    // routes/api/autohooks.ts puts the bearer check on every route under /api.
    autoHooks: true,
    cascadeHooks: true,
  })
  await app.after()
  // A kind in the list without its route folder would get a table and a catalog entry but no API.
  const unserved = KINDS.filter((k) => !app.hasRoute({ method: 'GET', url: `/api/v1/integrations/${k.segment}/:id` }))
  if (unserved.length > 0) {
    throw new Error(
      `No routes for integration kind(s) ${unserved.map((k) => k.segment).join(', ')}: add routes/api/v1/integrations/<kind>/index.ts`,
    )
  }
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
