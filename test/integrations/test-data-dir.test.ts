import fs from 'node:fs'
import t from 'tap'
import { startApp, testEnv } from '../helpers/app.js'
import { eachDatabase } from '../helpers/databases.js'

// Every test app gets a data folder of its own under the system's temporary folder; hundreds of test files start
// apps, so each folder must go with its app.
eachDatabase(t, async (t, db) => {
  t.test('the data folder of an app started by startApp is gone once its test ends and the app is closed', async (t) => {
    let dataDir = ''
    await t.test('an app', async (t) => {
      const { app } = await startApp(t, db)
      dataDir = app.config.dataDir
      t.ok(fs.existsSync(dataDir), 'the app has a data folder while it runs')
    })
    t.not(dataDir, '')
    t.notOk(fs.existsSync(dataDir), 'the folder is removed')
  })

  t.test('the data folder of an environment made by testEnv is gone once its test ends', async (t) => {
    let dataDir = ''
    await t.test('an environment', async (t) => {
      dataDir = testEnv(t, db).DATA_DIR!
      t.ok(fs.existsSync(dataDir), 'the folder exists while the test runs')
    })
    t.not(dataDir, '')
    t.notOk(fs.existsSync(dataDir), 'the folder is removed')
  })
})
