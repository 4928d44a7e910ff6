import t from 'tap'
import { startApp } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'
import { SAMPLES } from '../helpers/samples.js'

const BASE = '/api/v1/integrations'

interface Case {
  provider: string
  field: string
  canonical: string
  /** Other spellings of the same target: each stores `canonical`, and is a duplicate of it. */
  same: string[]
  /** Spellings refused with 400 naming the field, and what the message says. */
  refused: [string, RegExp][]
}

const github = (path: string) => ({
  same: [
    `https://www.github.com/${path}`,
    `https://github.com./${path}`,
    `https://github.com:443/${path}`,
    `https://github.com/${path.replace('a', '%61')}`,
    `https://GitHub.COM/${path.toUpperCase()}`,
    `https://github.com/${path}/`,
    `https://github.com/${path}.git`,
    `https://github.com/${path}%2Egit/`,
    `https://ｇｉｔｈｕｂ.com/${path}`,
    `https://WWW.GITHUB.COM.:443/${path.replace('a', '%41')}.GIT/`,
  ],
  refused: [
    [`https://github.com//${path}`, /must not have an empty path segment/],
    [`https://github.com../${path}`, /empty label in its host name/],
    [`https://gitlab.com/${path}`, /is on gitlab.com, which is GitLab's/],
    [`https://www.gitlab.com/${path}`, /is on gitlab.com, which is GitLab's/],
    [`https://bitbucket.org/${path}`, /is on bitbucket.org, which is Bitbucket's/],
    [`https://gist.github.com/${path}`, /must be on github.com itself/],
  ] as [string, RegExp][],
})

const CASES: Case[] = [
  { provider: 'GITHUB', field: 'repositoryUrl', canonical: 'https://github.com/acme/app-0', ...github('acme/app-0') },
  {
    provider: 'GITHUB',
    field: 'repositoryUrl',
    canonical: 'https://git.xn--bcher-kva.example/acme/app-0',
    same: ['https://git.bücher.example/acme/app-0', 'https://GIT.XN--BCHER-KVA.example.:443/%61cme/App-0.git'],
    refused: [],
  },
  {
    provider: 'GITLAB',
    field: 'repositoryUrl',
    canonical: 'https://gitlab.com/acme/mobile/app-0',
    same: [
      'https://www.gitlab.com/acme/mobile/app-0',
      'https://gitlab.com./acme/mobile/app-0',
      'https://gitlab.com:443/acme/mobile/app-0',
      'https://gitlab.com/acme/%6Dobile/app-0',
      'https://GitLab.com/ACME/Mobile/App-0.git/',
    ],
    refused: [
      ['https://gitlab.com/acme//mobile/app-0', /must not have an empty path segment/],
      ['https://github.com/acme/mobile', /is on github.com, which is GitHub's/],
      ['https://www.github.com/acme/mobile', /is on github.com, which is GitHub's/],
      ['https://bitbucket.org/acme/mobile', /is on bitbucket.org, which is Bitbucket's/],
      ['https://docs.gitlab.com/acme/mobile', /must be on gitlab.com itself/],
    ],
  },
  {
    provider: 'GITLAB',
    field: 'repositoryUrl',
    canonical: 'https://gitlab.xn--bcher-kva.example/acme/mobile/app-0',
    same: ['https://gitlab.bücher.example/acme/mobile/app-0', 'https://GitLab.Bücher.example./acme/mobile/app-0/'],
    refused: [],
  },
  {
    provider: 'BITBUCKET',
    field: 'repositoryUrl',
    canonical: 'https://bitbucket.org/acme/app-0',
    same: [
      'https://www.bitbucket.org/acme/app-0',
      'https://bitbucket.org./acme/app-0',
      'https://bitbucket.org:443/acme/app-0',
      'https://bitbucket.org/%61cme/app-0',
      'https://BitBucket.ORG/Acme/APP-0.git/',
    ],
    refused: [
      ['https://bitbucket.org//acme/app-0', /must not have an empty path segment/],
      ['https://github.com/acme/app-0', /must be on bitbucket.org/],
      ['https://gitlab.com/acme/app-0', /must be on bitbucket.org/],
    ],
  },
  { provider: 'GITHUB_ACTIONS', field: 'repositoryUrl', canonical: 'https://github.com/acme/app-0', ...github('acme/app-0') },
  {
    provider: 'JENKINS',
    field: 'hostUrl',
    canonical: 'https://ci.acme.test/jenkins',
    same: [
      'https://CI.Acme.TEST/jenkins/',
      'https://ci.acme.test./jenkins',
      'https://ci.acme.test:443/jenkins',
      'https://ci.acme.test/%6Aenkins',
      'https://ci.acme.test/jenkins//',
      'https://ci.acme.test/ci/../jenkins',
    ],
    refused: [
      ['https://ci.acme.test//jenkins', /must not have an empty path segment/],
      ['https://ci.acme.test../jenkins', /empty label in its host name/],
      ['https://github.com/jenkins', /is on github.com, which is GitHub's/],
      ['https://www.gitlab.com/jenkins', /is on gitlab.com, which is GitLab's/],
    ],
  },
  {
    provider: 'JENKINS',
    field: 'hostUrl',
    canonical: 'https://ci.xn--bcher-kva.example/jenkins',
    same: ['https://ci.bücher.example/jenkins', 'https://CI.BÜCHER.example.:443/jenkins/'],
    refused: [],
  },
  {
    provider: 'JIRA',
    field: 'baseUrl',
    canonical: 'https://acme-0.atlassian.net',
    same: ['https://ACME-0.Atlassian.NET/', 'https://acme-0.atlassian.net.', 'https://acme-0.atlassian.net:443//'],
    refused: [
      ['https://acme-0.atlassian.net//jira', /must not have an empty path segment/],
      ['https://bitbucket.org/acme', /is on bitbucket.org, which is Bitbucket's/],
    ],
  },
  {
    provider: 'JIRA',
    field: 'baseUrl',
    canonical: 'https://jira.acme.test/jira',
    same: ['https://jira.acme.test/%6Aira/', 'https://jira.acme.test.:443/jira'],
    refused: [],
  },
  {
    provider: 'CHECKMATE',
    field: 'baseUrl',
    canonical: 'https://checkmate.acme.test',
    same: ['https://CHECKMATE.acme.test/', 'https://checkmate.acme.test.', 'https://checkmate.acme.test:443'],
    refused: [['https://github.com/', /is on github.com, which is GitHub's/]],
  },
]

eachDatabase(t, async (t, db) => {
  const h = await startApp(t, db)
  const { app } = h

  for (const c of CASES) {
    const sample = SAMPLES.find((s) => s.provider === c.provider)!
    const url = `${BASE}/${sample.kind}`
    const create = async (spelling: string, tenant?: Awaited<ReturnType<typeof h.tenant>>) => {
      const { tenantId, ownerId } = tenant ?? (await h.tenant())
      const authorization = `Bearer ${await h.userToken(ownerId)}`
      return app.inject({ method: 'POST', url, headers: { authorization }, payload: { ...sample.body(tenantId), [c.field]: spelling } })
    }

    t.test(`${c.provider} ${c.canonical}: every spelling is one target, or refused`, async (t) => {
      const tenant = await h.tenant()
      const first = await create(c.canonical, tenant)
      t.equal(first.statusCode, 201, c.canonical)
      t.equal(first.json()[c.field], c.canonical, 'the canonical spelling is stored as given')

      for (const spelling of c.same) {
        const alone = await create(spelling)
        t.equal(alone.statusCode, 201, spelling)
        t.equal(alone.json()[c.field], c.canonical, `${spelling} is stored in canonical form`)
        const again = await create(spelling, tenant)
        t.equal(again.statusCode, 409, `${spelling} is a duplicate of ${c.canonical}`)
        t.match(again.json(), { statusCode: 409, code: 'DUPLICATE' })
      }

      for (const [spelling, message] of c.refused) {
        const res = await create(spelling)
        t.equal(res.statusCode, 400, `${spelling}: ${res.body}`)
        t.match(res.json(), { statusCode: 400, code: 'INVALID_FIELD', message: new RegExp(`^body/${c.field} `) }, spelling)
        t.match(res.json().message, message, spelling)
      }
    })
  }
})
