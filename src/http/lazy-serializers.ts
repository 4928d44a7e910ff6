import { createRequire } from 'node:module'

interface RouteDefinition {
  method: string
  url: string
  httpStatus: string
  schema?: unknown
}
type Serializer = (data: unknown) => string
type SerializerCompiler = (route: RouteDefinition) => Serializer
type SerializerFactory = (externalSchemas?: unknown, options?: unknown) => SerializerCompiler

// Fastify's own serializer compiler (fast-json-stringify), resolved from where Fastify resolves it.
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))
const { SerializerSelector } = fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => SerializerFactory }

/**
 * Fastify's response serializers, each compiled the first time its route answers with its status instead of
 * all at start-up. Compiling every route's every response schema (six kinds, a dozen routes, up to eight
 * statuses each, every one resolving the shared schemas) was most of the start's CPU and left ~10 MB of
 * generated code in the heap, for error answers most processes never send.
 */
export function lazySerializers(): SerializerFactory {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    return (route) => {
      let serialize: Serializer | undefined
      return (data) => (serialize ??= compile(route))(data)
    }
  }
}
