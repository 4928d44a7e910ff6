import { Type } from '@sinclair/typebox'
import { DataTypes } from 'sequelize'
import { verifyAppStore } from './app-store.js'
import { mintAppStoreToken } from './app-store-token.js'
import { mintPlayStoreToken } from './google-service-account.js'
import { verifyPlayStore } from './play-store.js'
import { recordedField, secretField, textField } from '../define/fields.js'
import { defineKind } from '../define/kind.js'
import { checkP8Key, checkServiceAccountJson } from './secret-checks.js'

export const targets = defineKind({
  segment: 'targets',
  name: 'Target',
  title: 'app distribution target',
  tableName: 'tenant_target_integrations',
  providerField: 'targetType',
  providers: [
    {
      id: 'APP_STORE',
      label: 'App Store Connect',
      required: ['bundleId', 'issuerId', 'keyId', 'privateKey'],
      optional: ['appStoreAppId'],
      example: {
        bundleId: 'com.acme.app',
        issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
        keyId: 'ABCDE12345',
        privateKey: '<the whole text of your AuthKey_ABCDE12345.p8 from App Store Connect, its BEGIN and END lines included>',
      },
      verify: verifyAppStore,
      verifies: 'Signs an ES256 token with the key and lists the app by bundle id in App Store Connect',
      recordFacts: ({ facts }) => ({ appStoreAppId: typeof facts.appStoreAppId === 'string' ? facts.appStoreAppId : undefined }),
      mint: mintAppStoreToken,
    },
    {
      id: 'PLAY_STORE',
      label: 'Google Play',
      required: ['packageName', 'serviceAccountJson'],
      optional: [],
      example: {
        packageName: 'com.acme.app',
        serviceAccountJson: '<the key file of your Google service account: its JSON text as one string>',
      },
      verify: verifyPlayStore,
      verifies: 'Exchanges the service account key for an access token, then opens and discards an edit of the app',
      recordFacts: ({ facts }) => ({
        serviceAccountEmail: typeof facts.serviceAccountEmail === 'string' ? facts.serviceAccountEmail : undefined,
      }),
      mint: mintPlayStoreToken,
    },
  ],
  fields: {
    bundleId: textField(
      Type.String({
        minLength: 3,
        maxLength: 255,
        pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$',
        description: 'iOS bundle id',
        examples: ['com.acme.app'],
      }),
    ),
    appStoreAppId: textField(
      Type.String({
        minLength: 1,
        maxLength: 20,
        pattern: '^[0-9]+$',
        description: 'App Store app id (Apple ID of the app); filled in by verification when omitted',
      }),
    ),
    issuerId: textField(Type.String({ format: 'uuid', description: 'App Store Connect API issuer id' })),
    keyId: textField(Type.String({ minLength: 10, maxLength: 10, pattern: '^[A-Z0-9]{10}$', description: 'App Store Connect API key id' })),
    privateKey: secretField('The .p8 private key (PEM) of the App Store Connect API key', { check: checkP8Key }),
    packageName: textField(
      Type.String({
        minLength: 3,
        maxLength: 255,
        pattern: '^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)+$',
        description: 'Android application id',
        examples: ['com.acme.app'],
      }),
    ),
    serviceAccountJson: secretField('The Google service account key file (JSON) with access to the app in Play Console', {
      maxLength: 16384,
      check: checkServiceAccountJson,
    }),
    serviceAccountEmail: recordedField('The service account the key belongs to, as verification found it'),
    applicationId: {
      schema: Type.String({ description: 'The bundle id or package name: what makes a target unique in a tenant' }),
      column: { type: DataTypes.STRING(255), allowNull: false },
    },
  },
  indexes: [
    { name: 'idx_target_tenant', fields: ['tenantId', 'isActive'] },
    { name: 'unique_tenant_target_app', fields: ['tenantId', 'targetType', 'applicationId'], unique: true },
  ],
  duplicateMessage: 'This tenant already has this app connected to that store',

  normalize(values, provider) {
    return { ...values, applicationId: provider === 'APP_STORE' ? values.bundleId : values.packageName }
  },
})
