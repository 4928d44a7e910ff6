import fs from 'node:fs'
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { tempDir } from './processes.js'

/** Debian's Chromium, which `.ci/run` installs. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * A name that is not loopback, which only the browser resolves (to 127.0.0.1): the page as a
 * person reaches it through a port-forward or a gateway, where a browser treats plain http as insecure.
 */
export const EXPLORER_HOST = 'explorer.test'

/** Why the browser tests cannot run here, or undefined. In CI a missing Chromium is an error, not a skip. */
export function chromiumMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined
  if (process.env.CI) throw new Error(`CI runs the API explorer in a browser: install Chromium at ${CHROMIUM} (see .ci/run)`)
  return `no Chromium at ${CHROMIUM} (apt-get install chromium)`
}

/** Headless Chromium with a fresh profile that reaches nothing but 127.0.0.1; closed when `t` ends. */
export async function launchChromium(t: Test): Promise<BrowserContext> {
  const profile = tempDir(t, 'delivr-chromium-')
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Every other name fails to resolve: nothing leaves the machine.
      `--host-resolver-rules=MAP ${EXPLORER_HOST} 127.0.0.1,MAP * ~NOTFOUND`,
    ],
  })
  t.teardown(() => browser.close())
  return browser
}

/** Console errors and warnings, uncaught exceptions and CSP violations of a page, as they happen. */
export async function watchProblems(page: Page): Promise<() => string[]> {
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`))
  // Chromium logs most violations itself; this names every one, whatever the console says.
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
  )
  return () => [...problems]
}

export interface Answer {
  status: number
  body: string
}

/** One operation of Swagger UI, driven as a person would: expand, Try it out, fill in, Execute. */
export class ExplorerOperation {
  constructor(readonly root: Locator) {}

  async expand(): Promise<void> {
    if (!(await this.root.locator('.opblock-body').isVisible())) await this.root.locator('.opblock-summary').click()
    await this.root.locator('.opblock-body').waitFor()
  }

  /** Folds the operation away again: every open one slows each later render of the page. */
  async collapse(): Promise<void> {
    if (await this.root.locator('.opblock-body').isVisible()) await this.root.locator('.opblock-summary').click()
    await this.root.locator('.opblock-body').waitFor({ state: 'detached' })
  }

  async tryItOut(): Promise<void> {
    await this.expand()
    const button = this.root.locator('button.try-out__btn')
    if ((await button.innerText()).trim() === 'Try it out') await button.click()
    await this.root.locator('button.execute').waitFor()
    // The body's own tab ("Edit Value"), where the Schema tab may have been left open.
    const valueTab = this.root.locator('.opblock-section-request-body button.tablinks[data-name="example"]')
    if ((await valueTab.count()) > 0) await valueTab.click()
  }

  /** The Schema tab of the request body, as its text. */
  async bodySchema(): Promise<Locator> {
    await this.expand()
    const body = this.root.locator('.opblock-section-request-body')
    await body.locator('button.tablinks[data-name="model"]').click()
    return body.locator('[data-name="modelPanel"]')
  }

  /** Picks a named example of the request body by its summary. */
  async chooseExample(summary: string): Promise<void> {
    await this.root.locator('select.examples-select-element').selectOption({ label: summary })
  }

  private get bodyText(): Locator {
    return this.root.locator('textarea.body-param__text')
  }

  async body(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.bodyText.inputValue()) as Record<string, unknown>
  }

  async setBody(body: Record<string, unknown>): Promise<void> {
    await this.bodyText.fill(JSON.stringify(body, null, 2))
  }

  parameter(name: string): Locator {
    return this.root.locator(`tr[data-param-name="${name}"] input`)
  }

  /** Executes and reads the answer the page shows. */
  async execute(): Promise<Answer> {
    const clear = this.root.locator('button.btn-clear')
    if (await clear.isVisible()) await clear.click()
    await this.root.locator('button.execute').click()
    const status = this.root.locator('.live-responses-table tbody .response-col_status')
    await status.waitFor()
    const body = this.root.locator('.live-responses-table tbody .response-col_description pre.microlight')
    return {
      status: Number((await status.innerText()).trim()),
      body: (await body.count()) > 0 ? await body.first().innerText() : '',
    }
  }
}

/** The Swagger UI page at /documentation. */
export class Explorer {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url)
    await this.page.locator('.opblock').first().waitFor()
  }

  /** The Authorize dialog: the bearer token for every call the page makes. */
  async authorize(token: string): Promise<void> {
    await this.page.locator('.auth-wrapper button.authorize').click()
    const dialog = this.page.locator('.dialog-ux .modal-ux')
    await dialog.locator('#auth-bearer-value').fill(token)
    await dialog.locator('button.modal-btn.auth.authorize').click()
    await dialog.locator('button.btn-done').click()
    await dialog.waitFor({ state: 'detached' })
  }

  /** An operation by its tag and operationId, as Swagger UI names its element. */
  operation(tag: string, operationId: string): ExplorerOperation {
    return new ExplorerOperation(this.page.locator(`#operations-${tag}-${operationId}`))
  }
}
