import { kindRoutes } from '../../../../../src/http/kind-routes.js'
import { communication } from '../../../../../src/kinds/communication/index.js'

export default kindRoutes(communication)
