// Browser half of `cove-bench console`: in Debian's Chromium, what the
// console's overview transfers on a cold load (every byte from the host,
// headers included) and how long until its charts are drawn, beside the
// sign-in page (the same shell and code, no data, no charts) as the
// baseline. Input: COVE_URL, COVE_KEY, WIDGET_NODE_MODULES. Output: one
// JSON line, last.
import { launch } from "./chromium.mjs";

const COVE = process.env.COVE_URL;
const KEY = process.env.COVE_KEY;
const RUNS = 7;

const browser = await launch();
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = async (signedIn) => {
  const context = await browser.newContext(); // empty cache every time
  if (signedIn) {
    const r = await context.request.post(COVE + "/console/session", { data: { key: KEY } });
    if (!r.ok()) throw new Error("sign-in: " + r.status());
  }
  const page = await context.newPage();
  let bytes = 0;
  page.on("requestfinished", async (req) => {
    const s = await req.sizes();
    bytes += s.responseBodySize + s.responseHeadersSize + s.requestHeadersSize;
  });
  const t0 = Date.now();
  await page.goto(COVE + "/console#/overview");
  if (signedIn) {
    await page.waitForSelector('main[data-ready="overview"]', { timeout: 30000 });
    await page.waitForFunction(() => [...document.querySelectorAll("figure.chart")].every((f) => f.dataset.drawn == "true"), null, { timeout: 30000 });
  } else {
    await page.waitForSelector("form.signin");
  }
  const ms = Date.now() - t0;
  await page.waitForTimeout(300); // let the last responses finish counting
  await context.close();
  return { ms, kb: bytes / 1024 };
};

const overview = [], signin = [];
for (let i = 0; i < RUNS; i++) {
  overview.push(await load(true));
  signin.push(await load(false));
}
await browser.close();
const out = {
  console_first_load_kb: Math.round(median(overview.map((x) => x.kb)) * 10) / 10,
  console_overview_ms: median(overview.map((x) => x.ms)),
  console_signin_ms: median(signin.map((x) => x.ms)),
  console_signin_kb: Math.round(median(signin.map((x) => x.kb)) * 10) / 10,
};
out.console_overview_ratio = Math.round((out.console_overview_ms / out.console_signin_ms) * 100) / 100;
console.log(JSON.stringify(out));
