import { parseArgs } from 'node:util'
import { mintToken } from '../auth/tokens.js'
import { ConfigError, loadConfig } from '../config/load-config.js'

const usage = `Mint a development token signed with this service's HS256 secret.

  npm run token -- --sub <accountId> [--ttl 1h]
  npm run token -- --sub service:<name> --scope "integrations:read integrations:credentials:read"

--ttl (default 1h) may not exceed AUTH_MAX_TOKEN_LIFETIME_SECONDS (86400 s unless set): the service refuses longer-lived tokens.
`

try {
  const { values } = parseArgs({
    options: { sub: { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean' } },
  })
  if (values.help || !values.sub) {
    console.error(usage)
    process.exit(values.help ? 0 : 2)
  }
  const config = loadConfig(process.env)
  console.log(await mintToken(config.auth, { sub: values.sub, scope: values.scope, expiresIn: values.ttl }))
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err)
  process.exit(1)
}
