import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { scm } from '../../../../../src/kinds/scm/index.js'

export default kindRoutes(scm)
