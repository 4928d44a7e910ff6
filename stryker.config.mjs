// Mutation testing (issue 17): `npm run mutate`, never part of `npm test` or CI. See README, "Mutation testing".

/**
 * The one list to keep in step with the source tree: each module where a silent bug costs
 * most, with the test files that exercise it. `focused` tests are the module's own (fast);
 * `wider` ones reach it through the app. Stryker runs the files that cover a mutant in the
 * order of the dry run and stops at the first failure, so every focused file runs before
 * any wider one.
 */
const AREAS = [
  {
    mutate: ['src/auth/access.ts', 'src/auth/tokens.ts'],
    focused: ['test/auth/access.test.ts', 'test/auth/auth.test.ts'],
    wider: ['test/integrations/scm.test.ts', 'test/integrations/kinds.test.ts'],
  },
  {
    mutate: [
      'src/outbound/address-policy.ts',
      'src/outbound/allowed-hosts.ts',
      'src/outbound/client.ts',
      'src/outbound/guarded-connector.ts',
      'src/outbound/redirects.ts',
    ],
    focused: [
      'test/outbound/address-policy.test.ts',
      'test/outbound/allowed-hosts.test.ts',
      'test/outbound/user-target.test.ts',
      'test/outbound/client.test.ts',
    ],
    wider: ['test/verification/provider-http.test.ts', 'test/integrations/untrusted-tls.test.ts', 'test/integrations/scm-verify.test.ts'],
  },
  {
    mutate: ['src/crypto/credential-cipher.ts', 'src/crypto/keyring.ts'],
    focused: ['test/crypto/credential-cipher.test.ts', 'test/integrations/reencrypt.test.ts'],
    wider: ['test/integrations/scm.test.ts'],
  },
  {
    mutate: ['src/integrations/service.ts'],
    focused: [
      'test/integrations/roles.test.ts',
      'test/integrations/secret-patch.test.ts',
      'test/integrations/secret-reentry.test.ts',
      'test/integrations/verify-expired.test.ts',
      'test/integrations/pagination.test.ts',
    ],
    wider: [
      'test/integrations/scm.test.ts',
      'test/integrations/kinds.test.ts',
      'test/integrations/hostile-input.test.ts',
      'test/integrations/scm-verify.test.ts',
      'test/integrations/access-token.test.ts',
    ],
  },
  {
    mutate: ['src/integrations/token-cache.ts', 'src/integrations/access-tokens.ts'],
    focused: ['test/integrations/token-cache.test.ts', 'test/integrations/access-token.test.ts'],
    wider: ['test/integrations/access-token-stored.test.ts'],
  },
  {
    // plan-sql runs only with TEST_MYSQL_URL set (it applies the plan with the mariadb client).
    mutate: ['src/db/migrate/plan.ts'],
    focused: ['test/db/migrate/plan-sql.test.ts'],
    wider: ['test/db/migrate/type-change.test.ts', 'test/db/migrate/attach-incompatible.test.ts', 'test/db/migrate/repair.test.ts'],
  },
]

/** The `--mutate` / `-m` values given on the command line, without line ranges. */
function mutateArguments(argv) {
  const values = []
  argv.forEach((arg, i) => {
    if (arg === '--mutate' || arg === '-m') values.push(argv[i + 1] ?? '')
    else if (arg.startsWith('--mutate=')) values.push(arg.slice('--mutate='.length))
  })
  return values.flatMap((v) => v.split(',')).map((pattern) => pattern.replace(/:\d+(:\d+)?-\d+(:\d+)?$/, ''))
}

/**
 * The areas a narrowed run touches, so its dry run runs only their tests. A glob selects
 * every area with a file under its literal prefix; choosing too much only costs time.
 */
function selectedAreas(patterns) {
  if (patterns.length === 0) return AREAS
  const prefixes = patterns.map((p) => p.replace(/^\.\//, '').split(/[*?{[]/)[0])
  const chosen = AREAS.filter((area) => area.mutate.some((file) => prefixes.some((prefix) => file.startsWith(prefix))))
  return chosen.length > 0 ? chosen : AREAS
}

const areas = selectedAreas(mutateArguments(process.argv))
const testFiles = [...new Set([...areas.flatMap((a) => a.focused), ...areas.flatMap((a) => a.wider)])]

// The tap runner starts `node <nodeArgs> <test file>` per file, not `tap`: no coverage (so
// .taprc's thresholds do not apply) and no tap plugins set-up, so load tap's own TypeScript
// loader here, transpile-only as under `tap` (`npm test` type-checks with tsc instead).
process.env.TS_NODE_TRANSPILE_ONLY = '1'
// And the per-file timeout is tap's default of 30 s unless given, not .taprc's.
process.env.TAP_TIMEOUT = '300'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: AREAS.flatMap((a) => a.mutate),
  testRunner: 'tap',
  tap: {
    testFiles,
    nodeArgs: ['--import=@tapjs/typescript/import'],
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  ignorePatterns: ['dist', 'coverage', '.tap', 'data', 'bench-results', '.scratch', 'reports'],
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 100, low: 90, break: null },
  timeoutMS: 10000,
  // The dry run runs every selected file once, instrumented; 5 minutes (the default) is short on a busy machine.
  dryRunTimeoutMinutes: 20,
}
