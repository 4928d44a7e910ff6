import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { targets } from '../../../../../src/kinds/targets/definition.js'

export default kindRoutes(targets)
