import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { cicd } from '../../../../../src/kinds/ci-cd/definition.js'

export default kindRoutes(cicd)
