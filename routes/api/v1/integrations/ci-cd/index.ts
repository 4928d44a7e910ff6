import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { cicd } from '../../../../../src/kinds/cicd/index.js'

export default kindRoutes(cicd)
