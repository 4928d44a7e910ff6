/**
 * The layering of the service, checked by `npm run lint` (and printed by `npm run deps`).
 * Imports point down: shell (app, plugins, routes) → engine (src/integrations) → kinds →
 * verification toolkit → outbound client. Database, migrate, crypto, auth, config and http
 * sit beside the engine and never import it.
 */
const notEngine = ['^src/integrations/', '^plugins/', '^routes/', '^src/app\\.ts$', '^src/server\\.ts$', '^src/cli/']

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      severity: 'error',
      comment: 'A file that imports a file that imports it back.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'A folder that imports a folder that imports it back is a design error.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'outbound-stands-alone',
      severity: 'error',
      comment: 'The outbound client depends on nothing of the domain.',
      from: { path: '^src/outbound/' },
      to: { path: '^(src|plugins|routes)/', pathNot: '^src/outbound/' },
    },
    {
      name: 'verification-is-provider-neutral',
      severity: 'error',
      comment: 'The verification toolkit knows no kind, no engine, no database.',
      from: { path: '^src/verification/' },
      to: { path: ['^src/kinds/', '^src/db/', '^src/auth/', '^src/crypto/', ...notEngine] },
    },
    {
      name: 'kinds-below-the-engine',
      severity: 'error',
      comment: 'A kind is a definition and its verifiers; the engine runs it, the kind never calls the engine.',
      from: { path: '^src/kinds/' },
      to: { path: ['^src/db/', '^src/auth/', '^src/crypto/', ...notEngine] },
    },
    {
      name: 'engine-knows-kinds-by-type-only',
      severity: 'error',
      comment: "The generic engine sees a kind only through the definition type; the list of kinds is the shell's.",
      from: { path: '^src/integrations/' },
      to: { path: '^src/kinds/', pathNot: '^src/kinds/define/' },
    },
    {
      name: 'infrastructure-beside-the-engine',
      severity: 'error',
      comment: 'Database, migrate, crypto, auth, config and http never import the engine or the shell.',
      from: { path: '^src/(db|auth|crypto|config|http|errors\\.ts)' },
      to: { path: notEngine },
    },
    {
      name: 'domain-not-shell',
      severity: 'error',
      comment: 'Nothing under src/ but the app builder reaches into plugins/ or routes/.',
      from: { path: '^src/', pathNot: '^src/app\\.ts$' },
      to: { path: '^(plugins|routes)/' },
    },
  ],
  options: {
    includeOnly: '^(src|plugins|routes)/',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
}
