import { cicd } from './ci-cd/definition.js'
import { communication } from './communication/definition.js'
import type { KindDefinition } from './define/kind.js'
import { projectManagement } from './project-management/definition.js'
import { scm } from './scm/definition.js'
import { targets } from './targets/definition.js'
import { testManagement } from './test-management/definition.js'

/** Every integration kind the service serves, in catalog order. */
export const KINDS: readonly KindDefinition[] = [scm, targets, cicd, communication, projectManagement, testManagement]

export function kindByName(name: string): KindDefinition | undefined {
  return KINDS.find((k) => k.segment === name)
}
