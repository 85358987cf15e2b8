// Browser half of `cove-bench widget`: in Debian's Chromium, measures what
// the first search transfers and how long typo-tolerant queries take in the
// wasm search core. Input: a JSON file (host URL, merchants with keys and
// queries) written by the Rust half. Output: one JSON line, last.
import fs from "node:fs";
import http from "node:http";
import { launch } from "./chromium.mjs";

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const COVE = spec.cove;

const server = http.createServer((req, res) => {
  const merchant = new URL(req.url, "http://x").searchParams.get("m");
  res.writeHead(200, { "content-type": "text/html" });
  res.end(`<!doctype html><html lang="en"><body><h1>Shop</h1><script src="${COVE}/widget.js" data-merchant="${merchant}" async></script></body></html>`);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const ORIGIN = "http://127.0.0.1:" + server.address().port;

const browser = await launch();
const out = {};
try {
  for (const [n, c] of Object.entries(spec.corpora)) {
    const put = await fetch(`${COVE}/v1/merchants/${c.merchant}/widget`, {
      method: "PUT", headers: { authorization: c.key, "content-type": "application/json" },
      body: JSON.stringify({ allowed_origins: [ORIGIN] }),
    });
    if (!put.ok) throw new Error("widget settings: " + put.status);
  }
  await new Promise((r) => setTimeout(r, 2100)); // public config cache

  for (const [n, c] of Object.entries(spec.corpora)) {
    const context = await browser.newContext(); // empty cache
    const page = await context.newPage();
    const sizes = [];
    page.on("requestfinished", async (req) => {
      if (!req.url().startsWith(COVE)) return;
      const s = await req.sizes();
      sizes.push({ url: req.url(), body: s.responseBodySize, total: s.responseBodySize + s.responseHeadersSize + s.requestHeadersSize });
    });
    await page.goto(`${ORIGIN}/?m=${c.merchant}`);
    const launcher = page.locator("[data-cove-widget] button.l");
    await launcher.click();
    const input = page.locator("[data-cove-widget] input[role=combobox]");
    await input.waitFor();
    // The moment the first result is in the page, taken in the page.
    await page.evaluate(() => {
      const list = document.querySelector("[data-cove-widget]").shadowRoot.querySelector("[role=listbox]");
      new MutationObserver((_, o) => {
        if (list.children.length) { window.firstResultsAt = performance.now(); o.disconnect(); }
      }).observe(list, { childList: true });
    });
    await input.pressSequentially(c.queries[0], { delay: 100 }); // a fast typist
    await page.locator("[data-cove-widget] li[role=option]").first().waitFor({ timeout: 60000 });
    // The index is fetched after the first results (they come from the
    // host) and counted apart, unless it had arrived before them: its meta
    // shard, then the shards this query needs (postings, then titles).
    const isIndex = (s) => s.url.includes("/index/");
    const settled = () => sizes.some((s) => /\/t\d+$/.test(s.url));
    for (let i = 0; i < 600 && !settled(); i++) await page.waitForTimeout(100);
    await page.waitForTimeout(1000);
    const indexFirst = await page.evaluate(() => performance.getEntriesByType("resource")
      .some((e) => e.name.includes("/index/") && e.responseEnd <= window.firstResultsAt));
    out["first_search_bytes_" + n] = sizes.filter((s) => indexFirst || !isIndex(s)).reduce((a, s) => a + s.total, 0);
    out["first_results_from_" + n] = indexFirst ? "index" : "host";
    out["index_first_search_bytes_" + n] = sizes.filter(isIndex).reduce((a, s) => a + s.total, 0);
    out["first_search_files_" + n] = sizes.map((s) => s.url.replace(COVE, "") + " " + s.body).join(", ");
    if (!out.loader_bytes) {
      out.loader_bytes = sizes.filter((s) => s.url.endsWith("/widget.js")).reduce((a, s) => a + s.body, 0);
      out.runtime_bytes = sizes.filter((s) => s.url.includes("/widget/")).reduce((a, s) => a + s.body, 0);
    }
    // The search core alone, in this page: load the index, time queries.
    const r = await page.evaluate(async ({ cove, merchant, queries }) => {
      const V = (await (await fetch(cove + "/widget.js")).text()).match(/"([0-9a-f]{8,})"/)[1];
      const glue = await import(cove + "/widget/" + V + "/cove_widget.js");
      await glue.default({ module_or_path: cove + "/widget/" + V + "/cove_widget_bg.wasm" });
      const cfg = await (await fetch(cove + "/public/v1/" + merchant + "/config?locale=en")).json();
      const get = async (name) => new Uint8Array(await (await fetch(cove + cfg.index + "/" + name)).arrayBuffer());
      const meta = await get("meta");
      const t0 = performance.now();
      const search = new glue.Search(meta);
      const load = performance.now() - t0;
      // Each query's shards are fetched first, untimed: the time is the
      // search core's, as for every keystroke after the first.
      const fill = async (q) => {
        for (let names; (names = search.missing(q, Date.now(), 8)).length;)
          for (const name of names) search.add(name, await get(name));
      };
      for (const q of queries.slice(0, 20)) { await fill(q); search.query(q, Date.now(), 8); } // warm up
      const times = [];
      let hits = 0;
      for (const q of queries) {
        await fill(q);
        const t = performance.now();
        const res = search.query(q, Date.now(), 8);
        times.push(performance.now() - t);
        hits += res.length > 0;
      }
      times.sort((a, b) => a - b);
      return { p95: times[Math.round((times.length - 1) * 0.95)], p50: times[Math.round((times.length - 1) * 0.5)], load, hits, n: queries.length, index_bytes: meta.length };
    }, { cove: COVE, merchant: c.merchant, queries: c.queries });
    console.log(`${n} articles: index meta ${r.index_bytes} bytes raw, loaded in ${r.load.toFixed(1)} ms; ` +
      `query p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms; ${r.hits}/${r.n} queries found something; ` +
      `first results (from the ${out["first_results_from_" + n]}) after ${out["first_search_bytes_" + n]} bytes; ` +
      `transferred: ${out["first_search_files_" + n]}`);
    out["query_p95_ms_" + n] = r.p95;
    out["index_load_ms_" + n] = r.load;
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(out));
