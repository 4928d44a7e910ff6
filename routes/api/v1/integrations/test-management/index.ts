import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { testManagement } from '../../../../../src/kinds/test-management/index.js'

export default kindRoutes(testManagement)
