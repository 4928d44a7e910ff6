import type { Dispatcher } from 'undici'
import { OutboundError } from './outbound-error.js'

type Body = Dispatcher.ResponseData['body']

/** Reads at most `limit` bytes; one byte more destroys the stream and with it the connection. */
export async function readBody(body: Body, limit: number, declaredLength: string | undefined, host: string): Promise<Buffer> {
  const tooLarge = (): OutboundError =>
    new OutboundError('RESPONSE_TOO_LARGE', `Response from ${host} is larger than ${limit} bytes`, { host })
  if (declaredLength !== undefined && Number(declaredLength) > limit) {
    body.destroy()
    throw tooLarge()
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > limit) throw tooLarge()
    chunks.push(buffer)
  }
  return Buffer.concat(chunks, size)
}

export async function discardBody(body: Body): Promise<void> {
  try {
    await body.dump()
  } catch {
    // A redirect body is never used; a failure here surfaces on the next hop.
  }
}
