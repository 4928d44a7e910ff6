import { Type } from '@sinclair/typebox'
import { verifyGithubActions } from './github-actions.js'
import { verifyJenkins } from './jenkins.js'
import { baseUrlField, httpsUrlSchema, textField, tokenField } from '../define/fields.js'
import { SINGLE_LINE } from '../../http/patterns.js'
import { originOf, parseBaseUrl } from '../define/https-url.js'
import { defineKind } from '../define/kind.js'
import { parseRepositoryUrl } from '../scm/repository-url.js'
import { githubAppConnection, githubAppFields } from '../scm/github-app.js'

export const cicd = defineKind({
  segment: 'ci-cd',
  name: 'Cicd',
  title: 'CI/CD',
  tableName: 'tenant_cicd_integrations',
  providerField: 'cicdType',
  providers: [
    {
      id: 'JENKINS',
      label: 'Jenkins',
      required: ['hostUrl', 'username', 'apiToken'],
      optional: [],
      example: { hostUrl: 'https://ci.acme.com/jenkins', username: 'release-bot', apiToken: '<your-Jenkins-API-token>' },
      verify: verifyJenkins,
      verifies: 'Reads the Jenkins API at {hostUrl}/api/json as the user',
      tokenType: () => 'Basic',
    },
    {
      id: 'GITHUB_ACTIONS',
      label: 'GitHub Actions',
      required: ['repositoryUrl'],
      optional: [],
      connections: [
        { id: 'accessToken', label: 'personal access token', required: ['accessToken'] },
        githubAppConnection(
          verifyGithubActions,
          { actions: 'write' },
          "The App's key is accepted and its installation grants actions write; an installation token lists the repository's workflows",
        ),
      ],
      example: { repositoryUrl: 'https://github.com/acme/mobile-app', accessToken: '<your-GitHub-token-with-Actions-read-and-write>' },
      verify: verifyGithubActions,
      verifies: "Lists the repository's workflows and checks the token may dispatch them",
    },
  ],
  fields: {
    hostUrl: baseUrlField('Jenkins base URL (https)', 'https://ci.acme.com/jenkins'),
    username: textField(
      Type.String({ minLength: 1, maxLength: 255, ...SINGLE_LINE, description: 'Jenkins user the API token belongs to' }),
    ),
    apiToken: tokenField('Jenkins API token of that user', { maxLength: 512 }),
    repositoryUrl: textField(
      httpsUrlSchema({
        maxLength: 512,
        description: 'https URL of the GitHub repository whose workflows Delivr runs',
        examples: ['https://github.com/acme/mobile-app'],
      }),
    ),
    accessToken: tokenField('GitHub token with Actions read and write on the repository'),
    ...githubAppFields,
  },
  indexes: [
    { name: 'idx_cicd_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_cicd_jenkins', fields: ['tenantId', 'cicdType', 'hostUrl', 'username'], unique: true },
    { name: 'unique_tenant_cicd_repo', fields: ['tenantId', 'cicdType', 'repositoryUrl'], unique: true },
  ],
  duplicateMessage: 'This tenant already has this CI/CD connection (same Jenkins host and user, or same repository)',

  normalize(values, provider) {
    if (provider === 'JENKINS') {
      return { ...values, hostUrl: parseBaseUrl(String(values.hostUrl), 'hostUrl', 'https://ci.acme.com/jenkins').normalized }
    }
    return { ...values, repositoryUrl: parseRepositoryUrl(String(values.repositoryUrl), 'GITHUB').normalized }
  },

  secretOrigin: (values) => originOf(values.hostUrl ?? values.repositoryUrl),
})
