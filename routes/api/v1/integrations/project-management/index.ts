import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { projectManagement } from '../../../../../src/kinds/project-management/definition.js'

export default kindRoutes(projectManagement)
