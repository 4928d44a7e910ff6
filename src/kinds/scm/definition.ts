import { Type } from '@sinclair/typebox'
import { DataTypes } from 'sequelize'
import { FieldError } from '../../http/errors.js'
import { defineKind, type FieldValues } from '../define/kind.js'
import { verifyBitbucket } from './bitbucket.js'
import { verifyGithub } from './github.js'
import { githubAppConnection, githubAppFields } from './github-app.js'
import { verifyGitlab } from './gitlab.js'
import { httpsUrlSchema, tokenField } from '../define/fields.js'
import { GIT_BRANCH, SINGLE_LINE } from '../../http/patterns.js'
import { isValidBranchName } from '../../http/git-branch.js'
import { originOf } from '../define/https-url.js'
import { parseRepositoryUrl } from './repository-url.js'

const SCM_CHECKS_TEXT = 'The token is accepted, sees the repository, can push to it, and the default branch exists'
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 255, ...SINGLE_LINE, description })

export const scm = defineKind({
  segment: 'scm',
  name: 'Scm',
  title: 'source control',
  tableName: 'tenant_scm_integrations',
  providerField: 'scmType',
  providers: [
    {
      id: 'GITHUB',
      label: 'GitHub',
      required: ['repositoryUrl'],
      optional: ['defaultBranch', 'githubOrganization', 'githubRepository'],
      connections: [
        { id: 'accessToken', label: 'personal access token', required: ['accessToken'] },
        githubAppConnection(
          verifyGithub,
          { contents: 'write' },
          "The App's key is accepted and its installation grants contents write; an installation token sees the repository and the default branch exists",
        ),
      ],
      example: { repositoryUrl: 'https://github.com/acme/mobile-app', accessToken: '<your-GitHub-personal-access-token>' },
      verify: verifyGithub,
      verifies: SCM_CHECKS_TEXT,
    },
    {
      id: 'GITLAB',
      label: 'GitLab',
      required: ['repositoryUrl', 'accessToken'],
      optional: ['defaultBranch'],
      example: { repositoryUrl: 'https://gitlab.com/acme/mobile/app', accessToken: '<your-GitLab-personal-access-token>' },
      verify: verifyGitlab,
      verifies: SCM_CHECKS_TEXT,
    },
    {
      id: 'BITBUCKET',
      label: 'Bitbucket Cloud',
      required: ['repositoryUrl', 'accessToken'],
      optional: ['defaultBranch'],
      example: { repositoryUrl: 'https://bitbucket.org/acme/mobile-app', accessToken: '<your-Bitbucket-repository-access-token>' },
      verify: verifyBitbucket,
      verifies: SCM_CHECKS_TEXT,
    },
  ],
  fields: {
    githubOrganization: {
      schema: Name('GitHub owner (organization or user); derived from repositoryUrl when omitted'),
      column: { type: DataTypes.STRING(255), allowNull: true },
      verified: true,
      patchable: true,
      derivedFrom: 'repositoryUrl',
    },
    githubRepository: {
      schema: Name('GitHub repository name; derived from repositoryUrl when omitted'),
      column: { type: DataTypes.STRING(255), allowNull: true },
      verified: true,
      patchable: true,
      derivedFrom: 'repositoryUrl',
    },
    repositoryUrl: {
      schema: httpsUrlSchema({
        maxLength: 512,
        description: 'https URL of the repository; stored in canonical form (lower case, no trailing / or .git)',
        examples: ['https://github.com/acme/mobile-app'],
      }),
      column: { type: DataTypes.STRING(512), allowNull: false },
      verified: true,
      patchable: true,
    },
    defaultBranch: {
      schema: Type.String({ ...GIT_BRANCH, minLength: 1, maxLength: 255, default: 'main' }),
      column: { type: DataTypes.STRING(255), allowNull: true, defaultValue: 'main' },
      verified: true,
      patchable: true,
      // The git rules a pattern cannot say ("@{", ".lock", a lone "@").
      check: (value) => (typeof value === 'string' && !isValidBranchName(value) ? 'must be a valid git branch name' : undefined),
    },
    accessToken: tokenField('Personal or app access token'),
    ...githubAppFields,
  },
  indexes: [
    { name: 'idx_scm_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_scm_repo', fields: ['tenantId', 'scmType', 'repositoryUrl'], unique: true },
  ],
  duplicateMessage: 'This tenant already has an integration for this repository',

  normalize(values, provider) {
    const url = parseRepositoryUrl(String(values.repositoryUrl), provider)
    const next: FieldValues = { ...values, repositoryUrl: url.normalized, defaultBranch: values.defaultBranch ?? 'main' }
    if (provider !== 'GITHUB') return next
    const [owner, repo] = url.segments as [string, string]
    for (const [field, fromUrl] of [
      ['githubOrganization', owner],
      ['githubRepository', repo],
    ] as const) {
      const given = values[field]
      if (typeof given === 'string' && given.toLowerCase() !== fromUrl.toLowerCase()) {
        throw new FieldError(field, `must match the repository URL ("${fromUrl}"), got "${given}"`)
      }
      next[field] = typeof given === 'string' ? given : fromUrl
    }
    return next
  },

  secretOrigin: (values) => originOf(values.repositoryUrl),
})
