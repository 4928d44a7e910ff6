import { ProviderUnavailableError, type ServiceError, unprocessable } from '../http/errors.js'
import { OutboundError } from '../outbound/index.js'
import type { VerificationResult, Verifier, VerifyContext, VerifyRequest } from './types.js'

/** How each failure to reach a provider reads to the caller. One place for every kind, verifying or minting. */
export function fromOutbound(err: OutboundError, provider: string): ServiceError {
  switch (err.code) {
    case 'TIMEOUT':
      return new ProviderUnavailableError(
        'PROVIDER_TIMEOUT',
        `${provider} did not answer in time (${err.host ?? 'host'}); nothing was changed`,
      )
    case 'UNREACHABLE':
    case 'DNS_FAILED':
      return new ProviderUnavailableError('PROVIDER_UNREACHABLE', `${err.message}; nothing was changed`)
    case 'RESPONSE_TOO_LARGE':
      return new ProviderUnavailableError('PROVIDER_ERROR', `${err.message}; nothing was changed`)
    case 'ADDRESS_REFUSED':
      return unprocessable('HOST_NOT_ALLOWED', `${err.message}. Operators can allow it in OUTBOUND_ALLOWED_HOSTS`)
    case 'REDIRECT_REFUSED':
      return unprocessable('PROVIDER_REDIRECT', `${err.message}; the credentials were not sent there`)
    default:
      return unprocessable('OUTBOUND_REFUSED', err.message)
  }
}

/** What running a verifier needs to know of a provider: its name for messages, and its verifier if it has one. */
export interface VerifiableProvider {
  label: string
  verify?: Verifier
}

/**
 * Runs a provider's verifier; a failure to reach the provider becomes an answer the caller
 * can act on. `what` names the integration in messages, e.g. "GITHUB source control".
 */
export async function runVerifier(
  spec: VerifiableProvider,
  what: string,
  request: VerifyRequest,
  context: VerifyContext,
): Promise<VerificationResult> {
  if (!spec.verify) {
    throw unprocessable('VERIFICATION_UNSUPPORTED', `${what} integrations cannot be verified yet`)
  }
  try {
    return await spec.verify(request, context)
  } catch (err) {
    if (err instanceof OutboundError) throw fromOutbound(err, spec.label)
    throw err
  }
}
