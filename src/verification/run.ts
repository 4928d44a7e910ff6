import { ProviderUnavailableError, ServiceError, unprocessable } from '../errors.js'
import type { KindDefinition } from '../kinds/kind.js'
import { OutboundError } from '../outbound/index.js'
import type { VerificationResult, VerifyContext, VerifyRequest } from './types.js'

/** How each failure to reach a provider reads to the caller. One place for every kind. */
function fromOutbound(err: OutboundError, provider: string): ServiceError {
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

export async function runVerifier(kind: KindDefinition, request: VerifyRequest, context: VerifyContext): Promise<VerificationResult> {
  const spec = kind.providers.find((p) => p.id === request.provider)
  if (!spec?.verify) {
    throw unprocessable('VERIFICATION_UNSUPPORTED', `${request.provider} ${kind.title} integrations cannot be verified yet`)
  }
  try {
    return await spec.verify(request, context)
  } catch (err) {
    if (err instanceof OutboundError) throw fromOutbound(err, spec.label)
    throw err
  }
}
