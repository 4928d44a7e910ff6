import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { testManagement } from '../../../../../src/kinds/test-management/definition.js'

export default kindRoutes(testManagement)
