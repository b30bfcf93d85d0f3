// Opens Swagger UI and ReDoc of a running SliceApi in Debian's headless Chromium (driven by playwright-core,
// never a downloaded browser), fails unless the operations render, saves a screenshot of each, and fails if
// either page asks any host but the API's own (the pages must work with only loopback reachable) or logs any console
// error. Also checks that the operations start as a newcomer uses them (Register first), and that Swagger UI's Authorize
// button runs the OAuth 2.0 code flow with PKCE against the API (swagger-oauth.mjs).
// Usage: node .ci/browser-check.mjs <base-url> <output-dir>
import { chromium } from 'playwright-core';
import { swaggerOAuth } from './swagger-oauth.mjs';

const [base, out] = process.argv.slice(2);
const expected = ['Create a task', 'List tasks: filter, sort and page by cursor', 'Log in', 'Register'];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
let failures = 0;
try {
  for (const [name, path, operationSelector] of [['swagger', '/swagger/index.html', '.opblock'], ['redoc', '/redoc/index.html', '[data-section-id^="operation/"]']]) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const foreign = [];
    // A request to another host counts unless the page's own Content-Security-Policy stopped it before it left.
    const isForeign = r => new URL(r.url()).origin !== new URL(base).origin && !r.url().startsWith('data:');
    page.on('requestfinished', r => { if (isForeign(r)) foreign.push(r.url()); });
    page.on('requestfailed', r => { if (isForeign(r) && !/^csp$|BLOCKED_BY_CSP/i.test(r.failure()?.errorText ?? '')) foreign.push(`${r.url()} (${r.failure()?.errorText})`); });
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    // Any console error fails the page: a Content-Security-Policy refusal, a failed load, a script's own error.
    page.on('console', m => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    await page.goto(base + path, { waitUntil: 'load' });
    await page.waitForSelector(operationSelector, { timeout: 30000 }).catch(() => {});
    const operations = await page.locator(operationSelector).count();
    const text = await page.locator('body').innerText();
    const missing = expected.filter(s => !text.includes(s));
    // A newcomer meets registration first (the document orders tags, then create, list, get, change, delete).
    const first = await page.locator(operationSelector).first().getAttribute(name === 'swagger' ? 'id' : 'data-section-id').catch(() => null);
    if (!/RegisterUser$/.test(first ?? '')) missing.push(`the first operation is ${first}, not RegisterUser`);
    await page.screenshot({ path: `${out}/${name}.png`, fullPage: false });
    const ok = operations >= 20 && missing.length === 0 && foreign.length === 0 && errors.length === 0;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${operations} operations rendered; missing: [${missing.join(', ')}]; ` +
                `other hosts asked: [${foreign.join(', ')}]; script errors: [${errors.join(' | ')}]; screenshot ${out}/${name}.png`);
    if (!ok) failures++;
    await context.close();
  }
  const oauth = await swaggerOAuth(browser, base, out);
  console.log(`${oauth.ok ? 'ok  ' : 'FAIL'} ${oauth.line}`);
  if (!oauth.ok) failures++;
} finally {
  await browser.close();
}
process.exit(failures === 0 ? 0 : 1);
