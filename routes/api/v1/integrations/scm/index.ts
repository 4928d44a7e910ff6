import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { scm } from '../../../../../src/kinds/scm/definition.js'

export default kindRoutes(scm)
