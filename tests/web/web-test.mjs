// web-test.mjs: the browser half of tests/web.t.sh. Drives Debian's
// chromium headless with puppeteer-core through A's web app (URL_A), checks
// that a publication reaches B's (URL_B), and stops B (PID_B) to see A's
// Network page say so. Every wait has a deadline; no fixed sleeps.
// Env: URL_A, URL_B, PID_B, BUNDLE (a hostile partner's bundle), SHOTS
// (screenshot folder), CHROMIUM, PROFILE_DIR (a fresh --user-data-dir).
import puppeteer from 'puppeteer-core';

const { URL_A, URL_B, PID_B, BUNDLE, SHOTS, CHROMIUM, PROFILE_DIR } = process.env;
const WAIT = 30000;
let step = 'start';
const dialogs = [];
const problems = [];

function fail(msg) {
  throw new Error(`${step}: ${msg}`);
}

// Polls fn (async, returns truthy when done) until the deadline.
async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`timed out waiting for ${what} (${last})`);
}

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${PROFILE_DIR}`],
});

// Nothing from partner content may run: no dialog, no window.__pwned, no
// event handler attribute or javascript: link in the DOM, no script but ours.
async function watch(page) {
  page.on('dialog', async (d) => {
    dialogs.push(`${step}: ${d.type()} ${d.message()}`);
    await d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`${step}: page error ${e.message}`));
  page.setDefaultTimeout(WAIT);
}

async function clean(page, where) {
  const bad = await page.evaluate(() => {
    const out = [];
    if (window.__pwned) out.push('window.__pwned is set');
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) out.push(`<${el.tagName} ${a.name}>`);
        if (/^(href|src|action|formaction|data)$/i.test(a.name) && /^\s*javascript:/i.test(a.value))
          out.push(`<${el.tagName} ${a.name}=${a.value}>`);
      }
    }
    for (const s of document.scripts)
      if (s.getAttribute('src') !== '/assets/hansa.js') out.push(`script ${s.outerHTML.slice(0, 80)}`);
    for (const f of document.querySelectorAll('iframe, object, embed')) out.push(f.tagName);
    return out;
  });
  if (bad.length) fail(`${where}: partner content became live: ${bad.join('; ')}`);
  if (dialogs.length) fail(`${where}: a dialog opened: ${dialogs.join('; ')}`);
}

async function go(page, url) {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || res.status() >= 400) fail(`GET ${url} answered ${res && res.status()}`);
  return res;
}

async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage });
}

const hitCount = (page) => page.$$eval('.hit', (l) => l.length);
const total = (page) => page.$eval('#total', (e) => parseInt(e.textContent.replace(/\D+/g, ''), 10));

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 860 });
  await watch(page);

  step = 'search bialystok';
  await go(page, `${URL_A}/`);
  await page.type('#q', 'bialystok');
  await Promise.all([page.waitForNavigation(), page.click('form.search button')]);
  await page.waitForSelector('.hit');
  const titles = await page.$$eval('.hit h2 a', (l) => l.map((a) => a.textContent));
  if (!titles.some((t) => t.includes('Innovation vouchers in Białystok')))
    fail(`the Białystok practice is not among ${JSON.stringify(titles)}`);
  const marks = await page.$$eval('.snippet mark', (l) => l.map((m) => m.textContent));
  if (!marks.some((m) => /Białystok/.test(m))) fail(`no highlighted Białystok in the snippets: ${marks}`);
  const before = await total(page);
  if (before < 3) fail(`expected 3 or more results, got ${before}`);
  await clean(page, 'search');
  await shot(page, 'search');

  step = 'click a facet';
  const facet = await page.$('.facet[data-facet="kind"] a');
  if (!facet) fail('no kind facet');
  const facetName = await facet.evaluate((a) => a.textContent);
  await Promise.all([page.waitForNavigation(), facet.click()]);
  await page.waitForSelector('.hit');
  const after = await total(page);
  const kinds = await page.$$eval('.hit .kind', (l) => l.map((k) => k.textContent));
  if (!(after < before)) fail(`the facet ${facetName} did not narrow: ${before} -> ${after}`);
  if (kinds.some((k) => k !== facetName)) fail(`kinds ${kinds} after choosing ${facetName}`);
  if ((await page.$eval('#q', (q) => q.value)) !== `bialystok kind:${facetName}`)
    fail('the query box does not show the filter');

  step = 'open a result';
  await Promise.all([page.waitForNavigation(), page.click('.hit h2 a')]);
  await page.waitForSelector('#title');
  await page.waitForSelector('.profile .name');
  const profile = await page.$eval('.profile', (e) => e.textContent);
  if (!profile.includes('Region Zealand') || !profile.includes('Sorø'))
    fail(`the author's profile is missing: ${profile}`);
  await clean(page, 'document');
  await shot(page, 'document');

  step = 'a typo corrects itself';
  await go(page, `${URL_A}/?q=${encodeURIComponent('innovaton vouchers')}`);
  await page.waitForSelector('#corrected');
  const said = await page.$eval('#corrected', (e) => e.textContent);
  if (!said.includes('Showing results for innovation vouchers'))
    fail(`the correction says: ${said}`);
  const fixed = await page.$$eval('.hit h2 a', (l) => l.map((a) => a.textContent));
  if (!fixed.some((t) => t.includes('Innovation vouchers in Białystok')))
    fail(`the corrected search does not find the Białystok practice: ${JSON.stringify(fixed)}`);

  step = 'publish';
  const word = `zyxquorum${Date.now() % 100000}`;
  await go(page, `${URL_A}/publish`);
  await page.type('#f-title', `Peer learning visits between Podlaskie and Zealand`);
  await page.$eval('#f-tags', (e) => { e.value = ''; });
  await page.type('#f-tags', 'peer-learning, visits');
  await page.type('#f-meta', 'org: Podlaskie Region\ncountry: PL');
  await page.type('#f-body', `Two study visits a year; the ${word} method.\n\n- first line\n- second line\n`);
  await until('the live preview', () =>
    page.$eval('#preview .body', (e) => e.textContent.includes('second line')).catch(() => false));
  await shot(page, 'publish', true);
  await Promise.all([page.waitForNavigation(), page.click('#save')]);
  await page.waitForSelector('#saved');
  const docUrl = page.url();
  const path = new URL(docUrl).searchParams.get('path');
  const author = new URL(docUrl).searchParams.get('author');
  if (!path || !path.startsWith('practices/peer-learning-visits')) fail(`unexpected path ${path}`);

  step = 'see it on B';
  const t0 = Date.now();
  const pageB = await browser.newPage();
  await watch(pageB);
  await until(`B's search to find ${word}`, async () => {
    await go(pageB, `${URL_B}/?q=${word}`);
    return (await pageB.$$('.hit')).length === 1;
  });
  console.log(`web-test: the new practice was found on B's web app ${Date.now() - t0} ms after saving on A`);
  await pageB.close();

  step = 'edit';
  await go(page, docUrl);
  await Promise.all([page.waitForNavigation(), page.click('#edit')]);
  await page.waitForSelector('#f-body');
  await page.$eval('#f-body', (e, w) => {
    e.value = e.value.replace('Two study visits a year', 'Three study visits a year') + '\nAdded after the first visit.\n';
  }, word);
  await Promise.all([page.waitForNavigation(), page.click('#save')]);
  await page.waitForSelector('#saved');
  await page.waitForSelector('#diff');
  const versions = await page.$$eval('.history tbody tr', (l) => l.length);
  if (versions !== 2) fail(`history shows ${versions} versions, not 2`);
  const del = await page.$$eval('#diff .del', (l) => l.map((d) => d.textContent));
  const ins = await page.$$eval('#diff .ins', (l) => l.map((d) => d.textContent));
  if (!del.some((d) => d.includes('Two study visits')) || !ins.some((d) => d.includes('Three study visits')) ||
      !ins.some((d) => d.includes('Added after the first visit')))
    fail(`the diff does not show the edit: -${JSON.stringify(del)} +${JSON.stringify(ins)}`);
  await shot(page, 'history', true);
  // any two versions: the same diff reversed through the form
  await page.$eval('.history tbody tr:nth-child(1) input[name=a]', (e) => { e.checked = true; });
  await page.$eval('.history tbody tr:nth-child(2) input[name=b]', (e) => { e.checked = true; });
  await Promise.all([page.waitForNavigation(), page.click('#compare')]);
  const del2 = await page.$$eval('#diff .del', (l) => l.map((d) => d.textContent));
  if (!del2.some((d) => d.includes('Three study visits'))) fail('comparing the other way round failed');

  step = 'delete';
  await go(page, docUrl);
  await Promise.all([page.waitForNavigation(), page.click('#delete')]);
  await page.waitForSelector('#confirm-delete');
  const asked = await page.$eval('main', (m) => m.textContent);
  if (!asked.includes('Delete this document?')) fail('no confirmation asked');
  // still there until confirmed
  const still = await browser.newPage();
  await go(still, `${URL_A}/?q=${word}`);
  if ((await still.$$('.hit')).length !== 1) fail('the document went before the confirmation');
  await still.close();
  await Promise.all([page.waitForNavigation(), page.click('#confirm-delete')]);
  await page.waitForSelector('.notice');
  await go(page, `${URL_A}/?q=${word}`);
  if ((await hitCount(page)) !== 0) fail('the deleted document is still found');
  await go(page, `${URL_A}/doc?author=${author}&path=${encodeURIComponent(path)}`);
  const gone = await page.$eval('main', (m) => m.textContent);
  if (!gone.includes('was deleted')) fail('the document page does not say it was deleted');

  step = 'hostile bundle';
  await go(page, `${URL_A}/transfer`);
  const input = await page.$('input[type=file][name=bundle]');
  await input.uploadFile(BUNDLE);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/transfer/import"] button')]);
  await page.waitForSelector('#import-result');
  const report = await page.$eval('#import-result', (e) => e.textContent);
  if (!/imported 1 new entry/.test(report)) fail(`unexpected import report: ${report}`);
  await clean(page, 'transfer report');

  step = 'hostile pages';
  await go(page, `${URL_A}/?q=hostile`);
  await page.waitForSelector('.hit');
  await clean(page, 'search with the hostile entry');
  const shownTitle = await page.$eval('.hit h2 a', (a) => a.textContent);
  if (!shownTitle.includes('<script>')) fail(`the hostile title is not shown as text: ${shownTitle}`);
  await Promise.all([page.waitForNavigation(), page.click('.hit h2 a')]);
  await page.waitForSelector('#title');
  await clean(page, 'hostile document');
  // the hostile links are inert: cmark's safe mode empties javascript: links
  const hrefs = await page.$$eval('#body a', (l) => l.map((a) => a.getAttribute('href')));
  if (!hrefs.length || hrefs.some((h) => h !== '')) fail(`links in the hostile body: ${JSON.stringify(hrefs)}`);
  const text = await page.$eval('#body', (e) => e.textContent);
  if (!text.includes('click me')) fail('the hostile body is not shown');
  for (const p of ['/partners', '/network', '/publish', `/?q=${encodeURIComponent('tag:hostile')}`,
                   `/?q=${encodeURIComponent('"<script>"')}`]) {
    await go(page, `${URL_A}${p}`);
    await clean(page, p);
  }
  // hovering over tags (the onmouseover payload) runs nothing either
  await go(page, `${URL_A}/?q=hostile`);
  await Promise.all([page.waitForNavigation(), page.click('.hit h2 a')]);
  for (const t of await page.$$('.tags a')) await t.hover();
  await clean(page, 'hostile tags hovered');

  step = 'network';
  await go(page, `${URL_A}/network`);
  await page.waitForSelector('.peer.connected');
  await clean(page, 'network');
  await shot(page, 'network-up');
  process.kill(Number(PID_B), 'SIGTERM');
  // no reload: the page refreshes itself
  await page.waitForSelector('.peer.down', { timeout: WAIT });
  await until('the reason B is down', () =>
    page.$eval('.peer.down .reason', (e) => e.textContent.includes('cannot be reached')).catch(() => false));
  const badge = await page.$eval('.peer.down .badge', (e) => e.textContent);
  if (badge !== 'Down') fail(`badge says ${badge}`);
  await shot(page, 'network');

  if (problems.length) fail(problems.join('; '));
  await browser.close();
  console.log('web-test: ok');
} catch (e) {
  console.error(`web-test: FAIL ${e.message.startsWith(step) ? "" : step + ": "}${e.message}`);
  await browser.close().catch(() => {});
  process.exit(1);
}
