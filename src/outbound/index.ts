export { isRefusedAddress } from './address-policy.js'
export { parseAllowedHosts } from './allowed-hosts.js'
export { createOutboundClient } from './client.js'
export { OutboundError, type OutboundErrorCode, type OutboundErrorDetails } from './outbound-error.js'
export type {
  OutboundClient,
  OutboundClientOptions,
  OutboundMethod,
  OutboundRequest,
  OutboundResponse
} from './types.js'
