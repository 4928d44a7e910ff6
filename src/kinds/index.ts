import { cicd } from './cicd/index.js'
import { communication } from './communication/index.js'
import type { KindDefinition } from './kind.js'
import { projectManagement } from './project-management/index.js'
import { scm } from './scm/index.js'
import { targets } from './targets/index.js'
import { testManagement } from './test-management/index.js'

/** Every integration kind the service serves, in catalog order. */
export const KINDS: readonly KindDefinition[] = [scm, targets, cicd, communication, projectManagement, testManagement]

export function kindByName(name: string): KindDefinition | undefined {
  return KINDS.find((k) => k.kind === name)
}
