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

/** Headers suitable for a JSON API, on every answer but the documentation page's. */
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

/**
 * What the bundled Swagger UI needs: its own scripts, styles and calls, data: images. Without
 * upgrade-insecure-requests: served over plain http on a host that is not loopback (a
 * port-forward in development), a browser would send the page's own requests to https.
 */
const DOCUMENTATION_CSP: HelmetOptions['contentSecurityPolicy'] = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    // Swagger UI adds a <style> element of its own.
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
}

/**
 * The documentation page's headers, by how the request arrived. Over https (directly, or from a
 * gateway that terminates TLS, as TRUST_PROXY lets X-Forwarded-Proto say) with the headers only
 * a secure origin honours; over plain http without them, since a browser ignores them there and
 * logs an error for Cross-Origin-Opener-Policy.
 */
export const DOCUMENTATION_HEADERS = {
  https: staticHeaders({ contentSecurityPolicy: DOCUMENTATION_CSP, crossOriginEmbedderPolicy: false }),
  http: staticHeaders({
    contentSecurityPolicy: DOCUMENTATION_CSP,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: false,
  }),
}
