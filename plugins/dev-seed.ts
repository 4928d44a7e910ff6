import fp from 'fastify-plugin'
import { mintToken } from '../src/auth/tokens.js'
import { seedDemo } from '../src/db/dev-seed.js'

/** Development only: seeds a demo Owner and logs a curl that creates an SCM integration. */
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
    const base = `http://localhost:${app.config.port}`
    const curl = [
      `curl -sS -X POST ${base}/api/v1/integrations/scm`,
      `-H 'authorization: Bearer ${token}'`,
      `-H 'content-type: application/json'`,
      `-d '${JSON.stringify(body)}'`,
    ].join(' ')
    app.addHook('onReady', async () => {
      app.log.info(
        { demoAccountId: demo.accountId, demoTenantId: demo.tenantId, docs: `${base}/documentation` },
        `development mode: demo tenant ready; try:\n\n${curl}${canMint ? '\n\nMint other tokens with: npm run token -- --sub <accountId>' : ''}`,
      )
    })
  },
  { name: 'dev-seed', dependencies: ['config', 'db'] },
)
