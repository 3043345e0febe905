// The web portals in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core against a running Tollgate. Run by crates/tollgate/tests/e2e/portals.rs, which
// starts the node, publishes an API and holds a subscription for approval first.
//
// Environment: TOLLGATE_URL (the control plane, http), ADMIN_PASSWORD, API_NAME (the API the
// definition describes), DEFINITION (an OpenAPI file to import), BACKEND_URL (its endpoint),
// OUT (where screenshots go). Every main page is screenshotted and checked with axe-core: a
// serious or critical violation fails the run.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const base = process.env.TOLLGATE_URL;
const adminPassword = process.env.ADMIN_PASSWORD;
const apiName = process.env.API_NAME;
const out = process.env.OUT;
const definition = process.env.DEFINITION;
const backendUrl = process.env.BACKEND_URL;
if (!base || !adminPassword || !apiName || !out || !definition || !backendUrl) {
  console.error('TOLLGATE_URL, ADMIN_PASSWORD, API_NAME, DEFINITION, BACKEND_URL and OUT are required');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const failures = [];

/// Screenshots the page as `name` (and at a phone's width as `name-phone`), fails on serious
/// accessibility violations and on a page wider than a 390 px screen (a wide table must scroll
/// inside its own box, not the page sideways).
async function check(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // The outermost elements reaching past the screen's edge, to say what to fix.
    const culprits = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .filter((e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= width + 0.5)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.className ? '.' + e.className : ''}`);
    return { by: document.documentElement.scrollWidth - width, culprits };
  });
  if (overflow.by > 0) {
    failures.push(`${name}: ${overflow.by} px wider than a 390 px screen (${overflow.culprits.join(', ')})`);
  }
  await page.screenshot({ path: join(out, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of serious) {
    failures.push(`${name}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
  console.log(`${name}: screenshot taken, ${result.violations.length} accessibility findings, ${serious.length} serious`);
}

function expect(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

try {
  const context = await browser.newContext();
  const page = await context.newPage();

  // The start page offers the three portals.
  await page.goto(`${base}/`);
  expect(await page.title() === 'Tollgate', `the start page is titled Tollgate, not '${await page.title()}'`);
  await check(page, 'home');

  // Deleting asks first (portal.js): the suite says yes.
  page.on('dialog', (dialog) => dialog.accept());

  // The publisher asks for sign-in; a wrong password is refused on the page.
  await page.goto(`${base}/publisher`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await check(page, 'publisher-login');
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'APIs' }).waitFor();

  // The publisher imports the OpenAPI definition (an import without one is named first).
  // A shared scope (a name with a space named first), then removed.
  await page.getByRole('link', { name: 'Shared scopes' }).click();
  await page.getByLabel('Name', { exact: true }).fill('orders read');
  await page.getByRole('button', { name: 'Create scope' }).click();
  await page.locator('#scope-name-error').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('orders:read');
  await page.getByLabel(/^Roles/).fill('Internal/subscriber');
  await page.getByRole('button', { name: 'Create scope' }).click();
  await page.getByRole('button', { name: 'Delete orders:read' }).waitFor();
  await check(page, 'publisher-scopes');
  await page.getByRole('button', { name: 'Delete orders:read' }).click();
  await page.getByText('No shared scopes yet.').waitFor();

  // A WebSocket API from the form: an http:// endpoint is refused naming it; a ws:// one is
  // taken, and its topics take SUBSCRIBE and PUBLISH.
  await page.getByRole('link', { name: 'Create API' }).first().click();
  await page.locator('#design-name').fill('ChatRooms');
  await page.locator('#design-context').fill('/rooms');
  await page.locator('#design-version').fill('1.0.0');
  await page.locator('#design-type').selectOption('WS');
  await page.locator('#design-endpoint').fill('http://chat.example/rooms');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#design-endpoint-error').waitFor();
  expect((await page.locator('#design-endpoint-error').innerText()).includes('ws://'), 'the refusal asks for a ws:// URL');
  await page.locator('#design-endpoint').fill('ws://chat.example/rooms');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'ChatRooms' }).waitFor();
  await page.getByRole('link', { name: 'Resources' }).click();
  expect(await page.locator('select[name="verb"] option', { hasText: 'SUBSCRIBE' }).count() > 0, 'a topic takes SUBSCRIBE');
  expect(await page.locator('select[name="verb"] option', { hasText: 'GET' }).count() === 0, 'a topic takes no HTTP method');
  await page.goto(`${base}/publisher`);

  await page.getByRole('link', { name: 'Create API' }).first().click();
  await check(page, 'publisher-create');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('#import-file-error').waitFor();
  // A large upload (3 MB, over axum's 2 MB default) reaches the definition check, as over REST.
  await page.locator('#import-file').setInputFiles({ name: 'big.json', mimeType: 'application/json', buffer: Buffer.alloc(3 * 1024 * 1024, 32) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('heading', { name: 'Import an OpenAPI definition' }).waitFor({ timeout: 10000 });
  await page.locator('#import-file').setInputFiles(definition);
  await page.locator('#import-context').fill('/pizzashack');
  await page.locator('#import-endpoint').fill(backendUrl);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('heading', { name: apiName }).waitFor();
  expect((await page.locator('#state').textContent()).trim() === 'Created', 'a new API is Created');
  const apiId = new URL(page.url()).pathname.split('/')[3];

  // Configuration: tags and a bad email (named next to its field), then saved.
  await page.getByRole('link', { name: 'Configuration' }).click();
  await page.getByLabel('Tags').fill('pizza, food');
  await page.getByLabel("Business owner's email").fill('not-an-email');
  await page.getByRole('button', { name: 'Save configuration' }).click();
  await page.locator('#business_owner_email-error').waitFor();
  await page.getByLabel("Business owner's email").fill('marketing@pizzashack.example');
  await page.getByLabel('Gold').check();
  await page.getByRole('button', { name: 'Save configuration' }).click();
  await page.getByLabel('Tags').waitFor();
  expect(await page.getByLabel('Tags').inputValue() === 'pizza, food', 'the tags were saved');
  await check(page, 'publisher-configuration');

  // Resources (from the definition) and endpoints (from the import form).
  await page.getByRole('link', { name: 'Resources' }).click();
  expect(await page.locator('input[name="target"][value="/menu"]').count() === 1, 'the definition\'s /menu is a resource');
  // A new resource guarded by a scope the API does not define yet is refused and kept on the
  // page; with the scope defined, it is saved.
  await page.getByLabel('Path of a new resource').fill('/reviews');
  await page.getByLabel('Scopes of a new resource').fill('reviews:read');
  await page.getByRole('button', { name: 'Save resources' }).click();
  await page.getByRole('alert').first().waitFor();
  expect(await page.locator('input[name="target"][value="/reviews"]').count() === 1, 'the refused row stays on the page');
  await page.getByLabel('Name of a new scope').fill('reviews:read');
  await page.getByLabel('Roles of a new scope').fill('Internal/subscriber');
  await page.getByRole('button', { name: 'Save resources' }).click();
  await page.getByLabel('Roles of reviews:read').waitFor();
  expect(await page.locator('input[name="target"][value="/reviews"]').count() === 1, 'the new resource was saved');
  await check(page, 'publisher-resources');
  // The definition as text: it lists the new resource; a broken one is refused, nothing lost.
  await page.getByRole('link', { name: 'Definition' }).click();
  expect((await page.getByLabel('Definition', { exact: true }).inputValue()).includes('/reviews'), 'the definition shows the new resource');
  await check(page, 'publisher-definition');
  await page.getByLabel('Definition', { exact: true }).fill('openapi: 3.0.1\npaths: 42');
  await page.getByRole('button', { name: 'Save definition' }).click();
  await page.getByRole('alert').first().waitFor();
  await page.getByRole('link', { name: 'Endpoints' }).click();
  expect((await page.getByLabel(/Production endpoints/).inputValue()).trim() === backendUrl, 'the endpoint is the backend');
  // Advanced settings: a timeout and the codes that suspend, saved and shown again; a factor
  // below 1 is refused, naming WSO2's field.
  await page.locator('summary', { hasText: 'Production endpoints: advanced settings' }).click();
  await page.locator('#production_action_duration').fill('5000');
  await page.locator('#production_suspend_error_code').fill('101503, 101504');
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await page.locator('#production_action_duration').waitFor({ state: 'attached' });
  expect(await page.locator('#production_action_duration').inputValue() === '5000', 'the timeout was saved');
  expect(await page.locator('#production_suspend_error_code').inputValue() === '101503, 101504', 'the suspension codes were saved');
  await page.locator('summary', { hasText: 'Production endpoints: advanced settings' }).click();
  await page.locator('#production_factor').fill('0.5');
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await page.getByRole('alert').first().waitFor();
  expect((await page.getByRole('alert').first().innerText()).includes('factor'), 'the refusal names the factor');
  await page.locator('summary', { hasText: 'Production endpoints: advanced settings' }).click();
  // Endpoint certificates: a file that is no certificate is refused naming the field; a
  // certificate is listed with its subject, then deleted.
  await page.locator('#alias').fill('backend-ca');
  await page.locator('#endpoint').fill('https://backend.example:8443/pizzashack');
  await page.locator('#certificate').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a certificate') });
  await page.getByRole('button', { name: 'Upload certificate' }).click();
  await page.locator('#certificate-error').waitFor();
  expect((await page.locator('#certificate-error').innerText()).includes('PEM'), 'the refusal says a PEM certificate is needed');
  await page.locator('#alias').fill('backend-ca');
  await page.locator('#endpoint').fill('https://backend.example:8443/pizzashack');
  await page.locator('#certificate').setInputFiles(process.env.CERTIFICATE);
  await page.getByRole('button', { name: 'Upload certificate' }).click();
  await page.getByRole('button', { name: 'Delete backend-ca' }).waitFor();
  expect(await page.locator('td', { hasText: 'Active' }).count() === 1, 'the certificate is listed as active');
  await check(page, 'publisher-endpoints');
  await page.getByRole('button', { name: 'Delete backend-ca' }).click();
  await page.getByText('No endpoint certificate is uploaded.').waitFor();

  // A Markdown document, previewed then added.
  await page.getByRole('link', { name: 'Documents' }).click();
  await page.getByLabel('Name', { exact: true }).fill('PizzaShack Guide');
  await page.getByLabel('Summary').fill('How to order');
  await page.getByLabel(/^Content/).fill('# Ordering\n\nSend **POST /order** with the pizzas.');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('#preview h1', { hasText: 'Ordering' }).waitFor();
  await page.getByRole('button', { name: 'Add document' }).click();
  await page.getByRole('link', { name: 'PizzaShack Guide', exact: true }).waitFor();
  await check(page, 'publisher-documents');

  // A revision, deployed to the default environment, then published.
  await page.getByRole('link', { name: 'Deployments' }).click();
  await page.getByLabel('Description').fill('First cut');
  await page.getByRole('button', { name: 'Create revision' }).click();
  await page.getByRole('heading', { name: 'Revision 1' }).waitFor();
  await page.locator('.revision input[name="environment"]').first().check();
  await page.getByRole('button', { name: 'Deploy revision 1' }).click();
  await page.locator('.deploy-status').first().waitFor();
  await check(page, 'publisher-deployments');
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await page.locator('#state', { hasText: 'Published' }).waitFor();
  await page.getByRole('link', { name: '← All APIs' }).click();
  expect(await page.getByRole('cell', { name: apiName }).count() === 1, 'the publisher lists the API');
  await check(page, 'publisher-apis');
  // An import by URL: the developer portal's copy of the published definition. Under another
  // name it is refused (its scope belongs to PizzaShackAPI); as a new version it is taken.
  await page.goto(`${base}/publisher/apis/create`);
  await page.locator('#import-url').fill(`${base}/devportal/apis/${apiId}/definition`);
  await page.locator('#import-name').fill('PizzaShackMirror');
  await page.locator('#import-context').fill('/mirror');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('alert').filter({ hasText: 'reviews:read' }).waitFor();
  await page.locator('#import-name').fill(apiName);
  await page.locator('#import-context').fill('/pizzashack');
  await page.locator('#import-version').fill('3.0.0');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('heading', { name: `${apiName} 3.0.0` }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The developer portal's catalogue, as an anonymous visitor, and the API's page.
  await page.goto(`${base}/devportal`);
  await page.getByRole('link', { name: apiName }).waitFor();
  await check(page, 'devportal-apis');
  await page.getByLabel('Search').fill('tag:pizza');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: apiName }).click();
  await page.getByRole('heading', { name: 'Operations' }).waitFor();
  expect(await page.getByText('/menu').count() > 0, 'the API page lists its operations');
  // Swagger UI (from the swagger-ui-redist crate) renders the definition.
  await page.locator('#swagger-ui .opblock-summary-path', { hasText: '/menu' }).first().waitFor();
  await check(page, 'devportal-api');
  // The document, rendered from its Markdown.
  await page.getByRole('link', { name: 'PizzaShack Guide' }).click();
  await page.locator('article h1', { hasText: 'Ordering' }).waitFor();
  await check(page, 'devportal-document');

  // A new consumer signs up (a too short password is named next to its field), lands on their
  // applications, and creates one (an empty name is named next to its field).
  await page.goto(`${base}/devportal/signup`);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#password-error').waitFor();
  await check(page, 'devportal-signup');
  await page.getByLabel('Password').fill('carol-secret-1');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Applications' }).first().waitFor();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('#name-error').waitFor();
  await page.getByLabel('Name').fill('CarolApp');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('cell', { name: 'CarolApp' }).waitFor();
  await check(page, 'devportal-applications');
  // A subscriber cannot do in the browser what the REST API refuses them.
  for (const path of ['/publisher', '/admin/tiers', '/admin/users']) {
    const denied = await page.goto(`${base}${path}`);
    expect(denied.status() === 403, `a subscriber is refused ${path} (${denied.status()})`);
  }
  await check(page, 'forbidden');
  await page.goto(`${base}/devportal/applications`);

  // Keys (the secret shown once), a token, and a subscription from the API's page.
  await page.getByRole('link', { name: 'CarolApp' }).click();
  await page.getByRole('button', { name: 'Generate keys' }).click();
  await page.locator('#consumer-secret').waitFor();
  await page.getByRole('button', { name: 'Get a token' }).click();
  await page.locator('#access-token').waitFor();
  // A new secret (asked first), an API key shown once, then revoked; the description edited.
  await page.getByRole('button', { name: 'Regenerate the PRODUCTION consumer secret' }).click();
  await page.locator('#consumer-secret').waitFor();
  await page.getByLabel(/^Validity \(seconds; empty/).fill('soon');
  await page.getByRole('button', { name: 'Generate API key' }).click();
  await page.locator('#api_key_validity-error').waitFor();
  await page.getByLabel(/^Validity \(seconds; empty/).fill('');
  await page.getByRole('button', { name: 'Generate API key' }).click();
  const apiKey = (await page.locator('#api-key').textContent()).trim();
  expect(apiKey.split('.').length === 3, 'an API key is a JWT');
  await check(page, 'devportal-application');
  await page.locator('#revoke-api-key').fill(apiKey);
  await page.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.waitForLoadState();
  expect(await page.getByRole('alert').count() === 0, 'the API key was revoked');
  await page.getByText('Grant types and callback URL').click();
  await page.getByLabel('password', { exact: true }).check();
  await page.getByLabel(/^Callback URL/).fill('https://carol.example/callback');
  await page.getByRole('button', { name: 'Save key settings' }).click();
  await page.getByText('Grant types and callback URL').click();
  expect(await page.getByLabel('password', { exact: true }).isChecked(), 'the password grant was added');
  expect(await page.getByLabel(/^Callback URL/).inputValue() === 'https://carol.example/callback', 'the callback was saved');
  await page.getByText('Edit or delete the application').click();
  await page.locator('#app-description').fill('Orders pizzas');
  await page.getByRole('button', { name: 'Save application' }).click();
  await page.getByText('Edit or delete the application').waitFor();
  expect(await page.locator('#app-description').inputValue() === 'Orders pizzas', 'the description was saved');
  // An application made by mistake is deleted (asked first).
  await page.goto(`${base}/devportal/applications`);
  await page.getByLabel('Name').fill('Scratch');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'Scratch' }).click();
  await page.getByText('Edit or delete the application').click();
  await page.getByRole('button', { name: 'Delete application' }).click();
  await page.getByRole('cell', { name: 'CarolApp' }).waitFor();
  expect(await page.getByRole('cell', { name: 'Scratch' }).count() === 0, 'Scratch was deleted');
  await page.goto(`${base}/devportal`);
  await page.getByRole('link', { name: apiName }).click();
  await page.locator('#application_id').selectOption({ label: 'CarolApp' });
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.getByRole('cell', { name: 'ON_HOLD' }).waitFor();
  // Rating and a comment on the API's page.
  await page.goto(`${base}/devportal`);
  await page.getByRole('link', { name: apiName }).click();
  await page.getByLabel('Your rating').selectOption('4');
  await page.getByRole('button', { name: 'Rate', exact: true }).click();
  await page.locator('#rating-summary', { hasText: '4.0 of 5 (1 rating)' }).waitFor();
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await page.locator('#comment-error').waitFor();
  await page.getByLabel('Add a comment').fill('Tasty API, quick answers.');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await page.getByText('Tasty API, quick answers.').waitFor();
  await check(page, 'devportal-feedback');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The admin approves the held subscription.
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${base}/admin`);
  await page.getByRole('heading', { name: 'SUBSCRIPTION_CREATION' }).first().waitFor();
  await check(page, 'admin-approvals');
  await page.getByRole('button', { name: 'Approve' }).first().click();
  await page.getByText('Nothing waits for approval.').waitFor();
  // The admin adds a subscription tier (a count that is not a number is named first).
  await page.getByRole('link', { name: 'Throttling tiers' }).click();
  await page.getByLabel('Name').fill('BrowserTier');
  await page.getByLabel('Requests').fill('many');
  await page.getByRole('button', { name: 'Add tier' }).click();
  await page.locator('#count-error').waitFor();
  await page.getByLabel('Requests').fill('100');
  await page.getByRole('button', { name: 'Add tier' }).click();
  await page.getByRole('cell', { name: 'BrowserTier' }).waitFor();
  await check(page, 'admin-tiers');
  // …and raises its limit on the tier's own page.
  await page.getByRole('link', { name: 'BrowserTier' }).click();
  await check(page, 'admin-tier');
  await page.getByLabel('Requests').fill('200');
  await page.getByRole('button', { name: 'Save tier' }).click();
  await page.getByRole('cell', { name: '200 requests per 1 min' }).waitFor();

  // A gateway environment (a bad port named first), then removed.
  await page.getByRole('link', { name: 'Gateway environments' }).click();
  await page.getByLabel('Name', { exact: true }).fill('staging');
  await page.getByLabel('Gateway host').fill('staging.example.com');
  await page.getByLabel('HTTP port').fill('eighty');
  await page.getByRole('button', { name: 'Add environment' }).click();
  await page.locator('#env-http-error').waitFor();
  await page.getByLabel('HTTP port').fill('8280');
  await page.getByRole('button', { name: 'Add environment' }).click();
  await page.getByRole('button', { name: 'Delete staging' }).waitFor();
  await check(page, 'admin-environments');
  await page.getByRole('button', { name: 'Delete staging' }).click();
  await page.getByRole('heading', { name: 'New environment' }).waitFor();
  expect(await page.getByRole('button', { name: 'Delete staging' }).count() === 0, 'staging was deleted');

  // An external key manager (a JWKS URL that is not one named first), then removed.
  await page.getByRole('link', { name: 'Key managers' }).click();
  await page.getByLabel('Name', { exact: true }).fill('partner-idp');
  await page.getByLabel('Issuer').fill('https://idp.partner.example');
  await page.getByLabel('JWKS endpoint').fill('ftp://idp.partner.example/keys');
  await page.getByRole('button', { name: 'Add key manager' }).click();
  await page.locator('#km-jwks-error').waitFor();
  await page.getByLabel('JWKS endpoint').fill('https://idp.partner.example/jwks');
  await page.getByRole('button', { name: 'Add key manager' }).click();
  await page.getByRole('button', { name: 'Delete partner-idp' }).waitFor();
  await check(page, 'admin-key-managers');
  const keysBefore = await page.locator('#signing-keys + p + .wide table tbody tr').count();
  await page.getByRole('button', { name: 'Rotate the signing key' }).click();
  await page.getByRole('heading', { name: 'Signing keys of the resident key manager' }).waitFor();
  expect(await page.locator('#signing-keys + p + .wide table tbody tr').count() === keysBefore + 1, 'a new signing key is listed');
  await page.getByRole('button', { name: 'Delete partner-idp' }).click();
  await page.getByRole('heading', { name: 'Add a key manager' }).waitFor();

  // Users and roles: a bad name is named, a user with a second role is created, then deleted.
  await page.getByRole('link', { name: 'Users and roles' }).click();
  await page.getByLabel('Username').fill('bad name');
  await page.getByLabel('Password').fill('dave-secret-1');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.locator('#username-error').waitFor();
  await page.getByLabel('Username').fill('dave');
  await page.getByLabel('Password').fill('dave-secret-1');
  await page.getByLabel('publisher', { exact: true }).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('cell', { name: 'dave', exact: true }).waitFor();
  await check(page, 'admin-users');
  await page.getByLabel('New role').fill('bad role');
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.locator('#role_name-error').waitFor();
  await page.getByLabel('New role').fill('auditors');
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.getByRole('button', { name: 'Delete the role auditors' }).click();
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  expect(await page.getByRole('button', { name: 'Delete the role auditors' }).count() === 0, 'the role was deleted');
  // dave's page: a role taken away, the account locked and unlocked, then the user deleted.
  await page.getByRole('link', { name: 'dave', exact: true }).click();
  await page.getByLabel('publisher', { exact: true }).uncheck();
  await page.getByRole('button', { name: 'Save roles' }).click();
  await page.getByRole('heading', { name: 'dave' }).waitFor();
  expect(!(await page.getByLabel('publisher', { exact: true }).isChecked()), 'the publisher role was taken away');
  await page.getByRole('button', { name: 'Lock account' }).click();
  await page.locator('#account-state', { hasText: 'Locked' }).waitFor();
  await check(page, 'admin-user');
  await page.getByRole('button', { name: 'Unlock account' }).click();
  await page.locator('#account-state', { hasText: 'Active' }).waitFor();
  await page.getByRole('button', { name: 'Delete user' }).click();
  await page.getByRole('cell', { name: 'carol', exact: true }).waitFor();
  expect(await page.getByRole('cell', { name: 'dave', exact: true }).count() === 0, 'dave was deleted');

  // Signing out ends the session: the publisher asks for sign-in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto(`${base}/publisher`);
  await page.getByLabel('Username').waitFor();

  // The consumer signs in again and tries the API: a real call through the gateway.
  await page.goto(`${base}/devportal/login`);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill('carol-secret-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${base}/devportal`);
  await page.getByRole('link', { name: apiName }).click();
  // The subscription moves to another tier the API offers.
  await page.goto(`${base}/devportal/applications`);
  await page.getByRole('link', { name: 'CarolApp' }).click();
  await page.getByLabel('New tier').selectOption('Gold');
  await page.getByRole('button', { name: 'Change tier' }).click();
  await page.getByRole('cell', { name: /^Gold/ }).waitFor();
  await page.goto(`${base}/devportal`);
  await page.getByRole('link', { name: apiName }).click();
  await page.locator('#try-operation').selectOption('GET /menu');
  let status = '';
  for (let attempt = 0; attempt < 20 && status !== '200'; attempt++) {
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#try-status').waitFor();
    status = (await page.locator('#try-status').textContent()).trim();
    if (status !== '200') {
      await page.waitForTimeout(250);
    }
  }
  expect(status === '200', `try it answered ${status}`);
  expect((await page.locator('#try-body-out').textContent()).includes('BBQ Chicken Bacon'), 'try it shows the backend\'s answer');
  await check(page, 'devportal-try-it');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The publisher's API page offers only the transitions its state allows.
  await page.goto(`${base}/publisher/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${base}/publisher/apis/${apiId}`);
  expect((await page.locator('#state').textContent()).trim() === 'Published', 'the API is published');
  expect(await page.getByRole('button', { name: 'Publish', exact: true }).count() === 0, 'no Publish button on a published API');
  await check(page, 'publisher-api');
  // The publisher answers carol's comment.
  await page.getByRole('link', { name: 'Comments' }).click();
  await page.getByText('Tasty API, quick answers.').waitFor();
  await page.getByRole('textbox', { name: 'Answer carol' }).fill('Thank you, carol!');
  await page.getByRole('button', { name: 'Answer carol' }).click();
  await page.getByText('Thank you, carol!').waitFor();
  await check(page, 'publisher-comments');
  // The API's subscriptions: block the consumer's, then unblock it.
  await page.getByRole('link', { name: 'Subscriptions' }).click();
  await page.getByRole('button', { name: 'Block CarolApp', exact: true }).click();
  await page.getByRole('cell', { name: 'BLOCKED', exact: true }).waitFor();
  await check(page, 'publisher-subscriptions');
  await page.getByRole('button', { name: 'Unblock CarolApp' }).click();
  await page.getByRole('cell', { name: 'UNBLOCKED', exact: true }).waitFor();
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('button', { name: 'Deprecate', exact: true }).click();
  await page.locator('#state', { hasText: 'Deprecated' }).waitFor();
  // A new version: a copy in the Created state (an empty version is named first).
  await page.getByRole('button', { name: 'Create new version' }).click();
  await page.locator('#version-error').waitFor();
  await page.getByLabel('Version', { exact: true }).fill('2.0.0');
  await page.getByRole('button', { name: 'Create new version' }).click();
  await page.getByRole('heading', { name: `${apiName} 2.0.0` }).waitFor();
  expect((await page.locator('#state').textContent()).trim() === 'Created', 'the new version is Created');
  console.log('portal flows passed');
} catch (err) {
  failures.push(`flow: ${err.message}`);
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
