import { Type } from '@sinclair/typebox'
import { StringEnum } from '../http/common-schemas.js'

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

export const VerificationResultSchema = Type.Object(
  {
    verdict: StringEnum(['VALID', 'INVALID', 'EXPIRED'] as const),
    message: Type.String({ description: 'One sentence, safe to show; what failed when not VALID' }),
    checks: Type.Array(
      Type.Object({
        name: Type.String({ description: 'e.g. authenticated, repository-visible, can-push, default-branch-exists' }),
        ok: Type.Boolean(),
        detail: Type.String(),
      }),
    ),
    facts: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
      description: 'What the provider told about the resource, e.g. defaultBranch, visibility',
    }),
    credential: Type.Object({
      expiresAt: Nullable(Type.String({ format: 'date-time' })),
      scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
    }),
    verifiedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'VerificationResult', title: 'VerificationResult' },
)
