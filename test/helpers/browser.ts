import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'brittle'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.SHOAL_CHROMIUM ?? '/usr/bin/chromium'
export const OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-output')
export const UI_BUILT = fs.existsSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../ui/dist/index.html'))

/** Null when a browser test can run here, else why not. */
export function browserSkip (): string | null {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`
  if (!UI_BUILT) return 'the UI is not built (npm run build:ui)'
  return null
}

/** Headless Debian Chromium, loopback only, closed at teardown. */
export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close(), { order: 0 })
  return browser
}

export function outputPath (name: string): string {
  fs.mkdirSync(OUTPUT, { recursive: true })
  return path.join(OUTPUT, name)
}
