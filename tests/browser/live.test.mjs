// live.test.mjs - headless Chromium against simple-http-server --live.
//
//   node live.test.mjs URL SITE_DIR OUT_DIR     (run through run.sh)
//
// 1. The page shows "Before the edit"             -> OUT/before.png
// 2. index.html is rewritten on disk; with no action in the browser the page
//    shows "After the edit" within 5 s (a reload) -> OUT/after.png
// 3. Only style.css is rewritten; the heading's computed colour changes
//    within 5 s while the page is NOT reloaded (a marker set on window
//    survives, no navigation happened)          -> OUT/after-css.png
// 4. Only app.js (dated 2020, so a browser would keep it for weeks by
//    heuristic freshness) is rewritten; the page reloads and runs the new
//    script within 5 s: every --live response says Cache-Control: no-cache
//    (issue 11 item 13)                           -> OUT/after-js.png
// Prints "browser: PASS ..." or "browser: FAIL: ..." and exits 0 or 1.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, site, out] = process.argv.slice(2);
if (!url || !site || !out) {
  console.error('usage: node live.test.mjs URL SITE_DIR OUT_DIR');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EVENTS = '/__simple-http-server/events';
const STEP_MS = 5000; // each change must show within this

const RED = 'rgb(200, 0, 0)';
const GREEN = 'rgb(0, 128, 0)';

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log(`  ok: ${what}`);
}

const AFTER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live reload test</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1 id="title">After the edit</h1>
<p>This text was written to disk while the browser watched.</p>
<p id="js">no script yet</p>
<script src="/app.js"></script>
</body>
</html>
`;

const AFTER_CSS = `body { font: 24px sans-serif; margin: 40px; background: rgb(230, 255, 230); }
h1 { color: ${GREEN}; }
`;

const AFTER_JS = `document.getElementById('js').textContent = 'script v2';
`;

const heading = (page) => page.textContent('#title');
const scriptText = (page) => page.textContent('#js');
const headingColor = (page) =>
  page.evaluate(() => getComputedStyle(document.getElementById('title')).color);

// Resolves when the page's event stream has its response head: only then
// is the page sure to hear about the next change.
function streamOpen(page) {
  const p = page.waitForResponse(
    (r) => new URL(r.url()).pathname === EVENTS && r.status() === 200,
    { timeout: STEP_MS },
  );
  p.catch(() => {}); // awaited later; a failure before that must not crash node
  return p;
}

let browser;
let failed = null;
try {
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  console.log(`browser: ${executablePath} ${browser.version()}`);
  const page = await browser.newPage({ viewport: { width: 800, height: 400 } });
  const logs = [];
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) logs.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });

  // 1. the page as it is
  let open = streamOpen(page);
  await page.goto(url, { waitUntil: 'load' });
  await open.catch(() => {
    throw new Error(`the page did not open ${EVENTS} within ${STEP_MS} ms (no script?)`);
  });
  check((await heading(page)) === 'Before the edit', 'the page shows "Before the edit"');
  check((await headingColor(page)) === RED, `the heading is ${RED}`);
  check((await scriptText(page)) === 'script v1', 'app.js ran ("script v1")');
  await page.screenshot({ path: join(out, 'before.png') });
  await page.evaluate(() => {
    window.shsMarker = 'set before the HTML edit';
  });

  // 2. edit the HTML on disk; the browser is not touched
  open = streamOpen(page);
  let t0 = Date.now();
  await writeFile(join(site, 'index.html'), AFTER_HTML);
  await page.waitForFunction(
    () => document.getElementById('title')?.textContent === 'After the edit',
    null,
    { timeout: STEP_MS, polling: 50 },
  );
  console.log(`  the HTML edit showed after ${Date.now() - t0} ms`);
  check(true, 'the page shows "After the edit" with no action in the browser');
  check(
    (await page.evaluate(() => window.shsMarker)) === undefined,
    'the HTML edit reloaded the page',
  );
  await open.catch(() => {
    throw new Error(`the reloaded page did not open ${EVENTS} again`);
  });
  await page.screenshot({ path: join(out, 'after.png') });

  // 3. edit only the stylesheet: new colour, same page (no reload)
  await page.evaluate(() => {
    window.shsMarker = 'set before the CSS edit';
  });
  const before = navigations;
  t0 = Date.now();
  await writeFile(join(site, 'style.css'), AFTER_CSS);
  await page.waitForFunction(
    (green) => getComputedStyle(document.getElementById('title')).color === green,
    GREEN,
    { timeout: STEP_MS, polling: 50 },
  );
  console.log(`  the CSS edit showed after ${Date.now() - t0} ms`);
  check(true, `the heading turned ${GREEN} after the CSS edit`);
  // Give a wrong reload the time to happen before looking for it.
  await page.waitForTimeout(500);
  check(
    (await page.evaluate(() => window.shsMarker)) === 'set before the CSS edit',
    'the CSS edit did not reload the page (window marker kept)',
  );
  check(navigations === before, 'no navigation happened for the CSS edit');
  check((await heading(page)) === 'After the edit', 'the heading text is unchanged');
  await page.screenshot({ path: join(out, 'after-css.png') });

  // 4. edit only the script: the page reloads and runs the new one
  check((await scriptText(page)) === 'script v1', 'the page still runs "script v1"');
  await page.evaluate(() => {
    window.shsMarker = 'set before the JS edit';
  });
  open = streamOpen(page);
  t0 = Date.now();
  await writeFile(join(site, 'app.js'), AFTER_JS);
  await page
    .waitForFunction(() => window.shsMarker === undefined, null, {
      timeout: STEP_MS,
      polling: 50,
    })
    .catch(() => {
      throw new Error(`the JS edit did not reload the page within ${STEP_MS} ms`);
    });
  await open.catch(() => {
    throw new Error(`the page reloaded for the JS edit did not open ${EVENTS} again`);
  });
  await page.waitForLoadState('load');
  const ran = await scriptText(page);
  console.log(`  the JS edit: after ${Date.now() - t0} ms the page shows "${ran}"`);
  check(ran === 'script v2', 'the reloaded page runs the edited app.js ("script v2")');
  await page.screenshot({ path: join(out, 'after-js.png') });
  if (logs.length) console.log(logs.map((l) => `  ${l}`).join('\n'));
} catch (e) {
  failed = e;
} finally {
  if (browser) await browser.close().catch(() => {});
}

if (failed) {
  console.log(`browser: FAIL: ${failed.message.split('\n')[0]}`);
  process.exit(1);
}
console.log('browser: PASS: live reload shown in headless Chromium (HTML reload, CSS swap, fresh JS)');
