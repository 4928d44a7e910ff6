import { kindRoutes } from '../../../../../src/integrations/routes.js'
import { communication } from '../../../../../src/kinds/communication/definition.js'

export default kindRoutes(communication)
