import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { targets } from '../../../../../src/kinds/targets/index.js'

export default kindRoutes(targets)
