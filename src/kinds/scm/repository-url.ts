import { FieldError } from '../../http/errors.js'
import { parseHttpsUrl, providerHost } from '../define/https-url.js'

export interface RepositoryUrl {
  /** Canonical form (see parseHttpsUrl), lower case, no trailing slash or `.git`. The uniqueness key. */
  normalized: string
  origin: string
  /** Path segments as the caller wrote them (case kept), e.g. [owner, repo]. */
  segments: string[]
}

const SEGMENT = /^[A-Za-z0-9_.-]+$/

interface Rule {
  /** The provider's public host. */
  host: string
  /** Only on `host`; otherwise also self-hosted, anywhere but another provider's public host. */
  exclusive?: boolean
  minSegments: number
  maxSegments: number
  example: string
}

const RULES: Record<string, Rule> = {
  GITHUB: { host: 'github.com', minSegments: 2, maxSegments: 2, example: 'https://github.com/owner/repo' },
  GITLAB: { host: 'gitlab.com', minSegments: 2, maxSegments: 20, example: 'https://gitlab.com/group/project' },
  BITBUCKET: { host: 'bitbucket.org', exclusive: true, minSegments: 2, maxSegments: 2, example: 'https://bitbucket.org/workspace/repo' },
}

export function parseRepositoryUrl(raw: string, provider: string, field = 'repositoryUrl'): RepositoryUrl {
  const rule = RULES[provider]
  if (!rule) throw new FieldError(field, `has no URL rule for provider ${provider}`)
  const fail = (why: string) => new FieldError(field, `${why}; expected a URL like ${rule.example}`)
  const url = parseHttpsUrl(raw, field, rule.example)
  if (rule.exclusive && url.hostname !== rule.host) throw fail(`must be on ${rule.host}`)
  const owner = providerHost(url.hostname)
  if (owner && url.hostname !== rule.host) {
    throw fail(owner.host === rule.host ? `must be on ${rule.host} itself` : `is on ${owner.host}, which is ${owner.label}'s`)
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\.git$/i, '')
  const segments = path.split('/').slice(1)
  if (segments.length < rule.minSegments || segments.length > rule.maxSegments) {
    throw fail(
      rule.minSegments === rule.maxSegments ? `must name exactly ${rule.minSegments} path segments` : 'must name a group and a project',
    )
  }
  if (segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw fail('has a path segment with characters other than letters, digits, ".", "_" or "-"')
  }
  const origin = url.origin.toLowerCase()
  return { normalized: `${origin}/${segments.join('/')}`.toLowerCase(), origin, segments }
}
