import type { KindDefinition } from './kind.js'
import { scm } from './scm/index.js'

/** Every integration kind the service serves, in catalog order. */
export const KINDS: readonly KindDefinition[] = [scm]

export function kindByName(name: string): KindDefinition | undefined {
  return KINDS.find((k) => k.kind === name)
}
