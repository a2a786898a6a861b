/** Headless Chromium (playwright-core with the system's /usr/bin/chromium) for browser suites and screenshots. */
import { chromium, type Browser } from 'playwright-core';
import { ansiToHtml } from './ansi-html';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Renders a `capture-pane -e` screen to a PNG, the way the terminal showed it. */
export async function renderTerminal(browser: Browser, screen: string, title: string): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
  try {
    await page.setContent(ansiToHtml(screen, title));
    return await page.locator('.term').screenshot();
  } finally {
    await page.close();
  }
}
