// Swagger UI's Authorize button runs the OAuth2 scheme's authorization code flow with PKCE against the API itself:
// the user signs in and allows in the popup, Swagger UI exchanges the code, and "Try it out" then gets a 200 from
// GET /api/v1/tasks with the app's token. Returns a line for the report.
export async function swaggerOAuth(browser, base, out) {
  const email = `swagger-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const call = async (path, body, token) => {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return r.json();
  };
  await call('/api/v1/users', { email, password, displayName: 'Swagger UI reader' });
  const { accessToken } = await call('/api/v1/auth/login', { email, password });
  const { app } = await call('/api/v1/oauth/apps',
    { name: 'Swagger UI', clientType: 'public', redirectUris: [`${base}/swagger/oauth2-redirect.html`] }, accessToken);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  context.on('page', p => {
    p.on('pageerror', e => errors.push(String(e)));
    p.on('console', m => { if (m.type() === 'error') errors.push(`console (${p.url()}): ${m.text()}`); });
  });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/swagger/index.html`, { waitUntil: 'load' });
    await page.waitForSelector('.opblock', { timeout: 30000 });
    await page.click('.scheme-container button.authorize');
    await page.fill('#client_id_authorizationCode', app.clientId);
    await page.click('label[for="tasks:read-authorizationCode-checkbox-OAuth2"]');
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.click('.auth-container button[aria-label="Apply given OAuth2 credentials"]'),
    ]);
    await popup.waitForLoadState('load');
    if (!(await popup.locator('input[name=email]').count())) {
      throw new Error(`the popup shows ${popup.url()}: ${(await popup.locator('body').innerText()).slice(0, 300)}`);
    }
    await popup.fill('input[name=email]', email);
    await popup.fill('input[name=password]', password);
    await popup.click('button[value=signin]');
    await popup.waitForLoadState('load');
    if (!(await popup.locator('button[value=allow]').count())) {
      throw new Error(`after signing in the popup shows ${popup.url()}: ${(await popup.locator('body').innerText()).slice(0, 300)}`);
    }
    const consent = await popup.locator('h1').innerText();
    await Promise.all([popup.waitForEvent('close', { timeout: 30000 }), popup.click('button[value=allow]')]);
    await page.waitForSelector('.auth-container button:has-text("Logout")', { timeout: 30000 })
      .catch(async () => { throw new Error(`no Logout button after the popup closed: ${(await page.locator('.modal-ux').innerText()).slice(-400)}`); });
    await page.click('.modal-ux button.close-modal');
    const operation = page.locator('#operations-Tasks-ListTasks');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = (await operation.locator('.live-responses-table tbody .response-col_status').first().innerText({ timeout: 30000 })).trim();
    const curl = await operation.locator('.curl-command').innerText().catch(() => '');
    await page.screenshot({ path: `${out}/swagger-oauth.png`, fullPage: false });
    const ok = status === '200' && consent === 'Allow Swagger UI?' && /Authorization: Bearer ey/.test(curl) && errors.length === 0;
    return { ok, line: `Swagger UI Authorize: consent page "${consent}", then GET /api/v1/tasks with the app's token: ${status}; script errors: [${errors.join(' | ')}]; screenshot ${out}/swagger-oauth.png` };
  } catch (e) {
    await page.screenshot({ path: `${out}/swagger-oauth.png`, fullPage: false }).catch(() => {});
    return { ok: false, line: `Swagger UI Authorize: stopped: ${e.message.split('\n')[0]}; script errors: [${errors.join(' | ')}]` };
  } finally {
    await context.close();
  }
}
