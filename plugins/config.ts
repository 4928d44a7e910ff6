import fp from 'fastify-plugin'
import { loadConfig, type Config } from '../src/config/load-config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface ConfigPluginOptions {
  /** Already-loaded configuration (tests, the CLI); otherwise read from process.env. */
  config?: Config
}

export default fp<ConfigPluginOptions>(
  async (app, opts) => {
    app.decorate('config', opts.config ?? loadConfig(process.env))
  },
  { name: 'config' },
)
