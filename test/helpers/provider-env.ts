import type { Test } from 'tap'
import { localhostCaFile } from './tls.js'

/**
 * The settings that aim every provider at doubles on loopback: the providers' own APIs (GitHub, Bitbucket, App Store,
 * Google, Play) at `api`, Slack at `slack`, and the hosts tenants give (Jenkins, Jira, Checkmate, GitLab) at `host`,
 * an https double the service trusts through the test CA.
 */
export async function providerEnv(
  t: Test,
  doubles: { api: { origin: string }; slack: { origin: string }; host: { port: number } },
): Promise<Record<string, string>> {
  const { api, slack, host } = doubles
  return {
    GITHUB_API_URL: api.origin,
    BITBUCKET_API_URL: api.origin,
    APPSTORE_API_URL: api.origin,
    GOOGLE_TOKEN_URL: `${api.origin}/token`,
    PLAY_API_URL: api.origin,
    SLACK_API_URL: slack.origin,
    OUTBOUND_ALLOWED_HOSTS: `localhost:${host.port}`,
    OUTBOUND_CA_FILE: await localhostCaFile(t),
  }
}
