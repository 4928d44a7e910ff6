import type { Sequelize } from 'sequelize'
import type { KindDefinition } from '../../kinds/define/kind.js'
import { defineSchemaModels, plan, prepareSchema } from './engine.js'
import { formatPlan } from './plan.js'

export const SCHEMA_COMMANDS = ['plan', 'check', 'apply'] as const
export type SchemaCommand = (typeof SCHEMA_COMMANDS)[number]

const quiet = { info: () => {}, warn: () => {} }

/**
 * `npm run schema -- <command>` on a connected database: what it prints and its exit code.
 * Throws what stops it (an incompatible schema, the lock not granted); the CLI prints that.
 */
export async function runSchemaCommand(
  sequelize: Sequelize,
  command: SchemaCommand,
  kinds: readonly KindDefinition[],
  lockTimeoutSeconds?: number,
): Promise<{ code: 0 | 1; stdout: string }> {
  if (command === 'apply') {
    const { report } = await prepareSchema(sequelize, kinds, 'alter', quiet, lockTimeoutSeconds)
    const applied = report.applied.length ? `Applied:\n${report.applied.map((a) => `  ${a}`).join('\n')}\n` : 'Nothing to apply.\n'
    return { code: 0, stdout: applied + (report.review.length ? `\nStill needs review:\n${formatPlan(report.review)}` : '') }
  }
  const { desired } = await defineSchemaModels(sequelize, kinds)
  const steps = await plan(sequelize, desired)
  if (command === 'plan') return { code: 0, stdout: formatPlan(steps) }
  if (steps.length === 0) return { code: 0, stdout: 'Schema check passed: nothing is missing or different.\n' }
  return { code: 1, stdout: `Schema check failed: ${steps.length} difference(s).\n\n${formatPlan(steps)}` }
}
