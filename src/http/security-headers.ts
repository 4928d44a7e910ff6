import helmet, { type HelmetOptions } from 'helmet'

/**
 * helmet's headers for a configuration are the same for every response: computed once here
 * rather than by running helmet on each request.
 */
function staticHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const collector = {
    setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  }
  helmet(options)({} as never, collector as never, () => {})
  return Object.freeze(headers)
}

/** Headers suitable for a JSON API; the CSP still lets the bundled Swagger UI run. */
export const SECURITY_HEADERS = staticHeaders({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
})
