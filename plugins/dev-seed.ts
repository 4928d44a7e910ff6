import net from 'node:net'
import fp from 'fastify-plugin'
import { mintToken } from '../src/auth/tokens.js'
import { seedDemo } from '../src/db/dev-seed.js'
import { DOCUMENTATION_PREFIX } from './swagger.js'

/** How a person on this machine reaches what listens on `host`: a wildcard address is every interface, localhost among them. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost'
  return net.isIPv6(host) ? `[${host}]` : host
}

/** Development only: seeds a demo Owner and logs a curl that creates an SCM integration, and where the explorer is. */
export default fp(
  async (app) => {
    const demo = await seedDemo(app.db.models)
    // With AUTH_JWT_PUBLIC_KEY this service cannot sign: the token comes from the issuer.
    const canMint = app.config.auth.secret !== undefined
    const token = canMint
      ? await mintToken(app.config.auth, {
          sub: demo.accountId,
          expiresIn: `${Math.min(12 * 3600, app.config.auth.maxTokenLifetimeSeconds)}s`,
        })
      : `<a token from your issuer with sub ${demo.accountId}>`
    const body = {
      tenantId: demo.tenantId,
      scmType: 'GITHUB',
      displayName: 'Demo mobile app',
      repositoryUrl: 'https://github.com/delivr-demo/mobile-app',
      accessToken: 'paste-a-github-token-here',
    }
    const base = app.config.http.publicBaseUrl ?? `http://${reachableHost(app.config.host)}:${app.config.port}`
    const docs = `${base}${DOCUMENTATION_PREFIX}`
    const curl = [
      `curl -sS -X POST ${base}/api/v1/integrations/scm`,
      `-H 'authorization: Bearer ${token}'`,
      `-H 'content-type: application/json'`,
      `-d '${JSON.stringify(body)}'`,
    ].join(' ')
    app.addHook('onReady', async () => {
      const explorer = `or open ${docs}, Authorize with that token, and send an example from there (fill in the secret only)`
      app.log.info(
        { demoAccountId: demo.accountId, demoTenantId: demo.tenantId, docs },
        `development mode: demo tenant ready; try:\n\n${curl}\n\n${explorer}${canMint ? '\n\nMint other tokens with: npm run token -- --sub <accountId>' : ''}`,
      )
    })
  },
  { name: 'dev-seed', dependencies: ['config', 'db'] },
)
