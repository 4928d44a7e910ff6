import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { projectManagement } from '../../../../../src/kinds/project-management/index.js'

export default kindRoutes(projectManagement)
