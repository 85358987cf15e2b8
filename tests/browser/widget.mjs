// End-to-end test of the storefront widget in Debian's Chromium (headless),
// against a real Cove host. Run by tests/tests/widget.rs, which starts the
// host in demo mode and passes COVE_URL, COVE_KEY (the demo merchant's API
// key) and WIDGET_NODE_MODULES.
//
// A merchant's own page, on its own origin, with its own loud styles and
// script and a strict CSP, gets the one script tag. The test searches with
// typos in two scripts, votes, triggers the exit survey, answers it while
// offline, comes back online, and checks the answer arrives exactly once;
// then a shopper returns an item through the merchant's return flow.
import http from "node:http";
import { createRequire } from "node:module";
import { launch } from "./chromium.mjs";

const require = createRequire(process.env.WIDGET_NODE_MODULES + "/");
const axeSource = require("fs").readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");


const COVE = process.env.COVE_URL;
const KEY = process.env.COVE_KEY;
const api = (path, init = {}) =>
  fetch(COVE + "/v1/merchants/demo" + path, { ...init, headers: { authorization: "Bearer " + KEY, "content-type": "application/json" } });
let failures = 0;
const check = (ok, what) => {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
  return ok;
};
const until = async (f, what, ms = 15000) => {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await f()) return check(true, what) || true; } catch (e) { /* not yet */ }
    if (Date.now() > end) { check(false, what + " (timed out)"); return false; }
    await new Promise((r) => setTimeout(r, 100));
  }
};

// The merchant's page: its own origin, styles, script and CSP.
const page_html = (lang) => `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<link rel="stylesheet" href="/own.css"><script src="/own.js"></script>
<script src="${COVE}/widget.js" data-merchant="demo" async></script></head>
<body><h1>Merchant page</h1><button id="own">Own button</button><ul><li id="own-li">own item</li></ul>
<div class="tall"></div></body></html>`;
// A page the merchant does not fully control: HTML from reviews or a theme
// that clobbers the document's properties, generic CSS that hides empty
// elements and restyles all text, a Prototype.js-style patch, no CSP.
const hostile_html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<style>div:empty,span:empty{display:none!important} *{text-transform:uppercase;letter-spacing:5px}</style>
<script nonce="n0nce">Array.prototype.toJSON = function () { return "x"; };</script></head>
<body><img name="currentScript" src="http://attacker.invalid/x" data-merchant="demo"><form name="currentScript"></form>
<img name="body"><img name="createElement"><div id="__coveWidget"></div><h1>Reviews</h1>
<script src="${COVE}/widget.js" data-merchant="demo" async></script></body></html>`;
const own_css = "button{background:rgb(214, 40, 40);color:rgb(255, 255, 0)} li{color:rgb(0, 0, 255)} dialog{background:rgb(0, 128, 0)} input{font-size:40px} .tall{height:3000px}";
const own_js = `window.ownMarker = "intact"; window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));
document.addEventListener("DOMContentLoaded", () => document.getElementById("own").onclick = () => window.ownClicks = (window.ownClicks || 0) + 1);`;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const csp = `script-src 'self' ${COVE} 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'`;
  if (url.pathname == "/own.css") return res.writeHead(200, { "content-type": "text/css" }).end(own_css);
  if (url.pathname == "/own.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(own_js);
  if (url.searchParams.has("hostile")) {
    // The same hostile page with and without a CSP (its own inline script by nonce).
    const headers = { "content-type": "text/html; charset=utf-8" };
    if (url.searchParams.has("csp")) headers["content-security-policy"] = `script-src 'nonce-n0nce' ${COVE} 'wasm-unsafe-eval'; style-src 'unsafe-inline'; object-src 'none'`;
    return res.writeHead(200, headers).end(hostile_html);
  }
  // The merchant's page without its CSP, for axe-core (injected by the test).
  if (url.searchParams.has("plain")) return res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page_html("en"));
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp });
  res.end(page_html(url.searchParams.get("lang") || "en"));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const ORIGIN = "http://127.0.0.1:" + server.address().port;

const browser = await launch();
const context = await browser.newContext();
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
page.on("console", (m) => { if (m.type() == "error" && /Content Security Policy/.test(m.text())) errors.push(m.text()); });

try {
  // 1. An origin the merchant has not allowed gets nothing, and no errors.
  await page.goto(ORIGIN + "/");
  await page.waitForTimeout(1500);
  check((await page.locator("[data-cove-widget]").count()) == 0, "a page on an origin not allowed gets no widget");
  check(await page.evaluate(() => window.ownMarker == "intact"), "…and the page's own script still runs");

  // The merchant allows their storefront's origin.
  const put = await api("/widget", { method: "PUT", body: JSON.stringify({ allowed_origins: [ORIGIN], accent: "#7a1fa2" }) });
  check(put.ok, "merchant allows the storefront origin");
  // An article whose Markdown tries to inject script and handlers.
  const xss = await api("/articles/en-xss", { method: "PUT", body: JSON.stringify({
    locale: "en", title: "Gift wrapping", tags: ["gift"],
    body: "Wrapped <img src=x onerror=\"window.pwned=1\"> [click](javascript:window.pwned=2) <script>window.pwned=3</script> ![i](javascript:alert(1))",
  }) });
  check(xss.ok, "merchant publishes an article with hostile Markdown");
  await page.waitForTimeout(2100); // the public config is cached for 2 s

  // 2. The tag works: launcher in a shadow root, styles isolated both ways.
  await page.goto(ORIGIN + "/");
  const launcher = page.locator("[data-cove-widget] button.l");
  await launcher.waitFor();
  const bg = await launcher.evaluate((b) => getComputedStyle(b).backgroundColor);
  check(bg == "rgb(122, 31, 162)", "launcher uses the merchant's accent, not the page's button style (" + bg + ")");
  const ownBefore = await page.locator("#own").evaluate((b) => getComputedStyle(b).backgroundColor + getComputedStyle(b).fontSize);

  // 3. Keyboard: focus the launcher, Enter opens the dialog, focus is in the search box.
  await launcher.focus();
  await page.keyboard.press("Enter");
  const input = page.locator("[data-cove-widget] input[role=combobox]");
  await input.waitFor();
  await until(() => input.evaluate((i) => i.getRootNode().activeElement == i), "focus moves into the search box");
  check(await page.locator("[data-cove-widget] dialog[open]").count() == 1, "the search opens as a modal dialog");

  // 4. Typos in Latin script.
  const top3 = () => page.locator("[data-cove-widget] li[role=option]").evaluateAll((els) => els.slice(0, 3).map((e) => e.dataset.id));
  await input.pressSequentially("refnud", { delay: 20 });
  await until(async () => (await top3()).includes("en-refunds"), "'refnud' finds the refunds article");
  await input.fill("");
  await input.pressSequentially("shiping tmes ", { delay: 10 });
  await until(async () => (await top3())[0] == "en-shipping", "'shiping tmes' ranks shipping first");
  check(!(await top3()).includes("en-holiday"), "an expired article is never shown");
  // First results came from the host; the index's shards followed (meta,
  // postings, titles: a help centre this small has one of each), and now
  // the page answers by itself, even offline.
  await until(() => page.evaluate(() => performance.getEntriesByType("resource").some((e) => /\/index\/.*\/t\d+$/.test(e.name))),
    "the index's shards download after the first results");
  await context.setOffline(true);
  await input.fill("");
  await input.pressSequentially("waranty ", { delay: 10 });
  await until(async () => (await top3())[0] == "en-warranty", "with the index loaded, search works offline ('waranty')");
  await context.setOffline(false);
  await input.fill("");
  await input.pressSequentially("shiping tmes ", { delay: 10 });
  await until(async () => (await top3())[0] == "en-shipping", "back online, same answers");
  const expanded = await input.getAttribute("aria-expanded");
  check(expanded == "true", "combobox says its list is expanded");

  // ArrowDown moves the active option; Enter opens the article.
  await page.keyboard.press("ArrowDown");
  const activedesc = await input.getAttribute("aria-activedescendant");
  check(activedesc == "cove-o1", "ArrowDown moves aria-activedescendant (" + activedesc + ")");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  const h3 = page.locator("[data-cove-widget] .art h3");
  await h3.waitFor();
  check((await h3.textContent()) == "Shipping times and costs", "Enter opens the article");

  // 5. Votes: one per visitor per article.
  const votes = async () => (await (await api("/articles?locale=en")).json()).articles.find((a) => a.id == "en-shipping");
  await page.locator("[data-cove-widget] .art button.b", { hasText: "Yes" }).click();
  await until(async () => (await votes()).helpful == 1, "a helpful vote is recorded");
  await page.locator("[data-cove-widget] .art button.b", { hasText: "Yes" }).click();
  await page.waitForTimeout(500);
  const v1 = await votes();
  check(v1.helpful == 1 && v1.unhelpful == 0, "voting again does not count twice");
  await page.locator("[data-cove-widget] .art button.b", { hasText: "No" }).click();
  await until(async () => { const v = await votes(); return v.helpful == 0 && v.unhelpful == 1; }, "changing the vote replaces it");

  // Hostile Markdown is shown as text: no script, handler or javascript: URL runs.
  await page.locator("[data-cove-widget] .art button.b", { hasText: "←" }).click();
  await input.fill("");
  await input.pressSequentially("gift wraping ", { delay: 10 });
  await until(async () => (await top3())[0] == "en-xss", "'gift wraping' finds the gift wrapping article");
  await page.keyboard.press("Enter");
  await until(async () => (await h3.textContent()) == "Gift wrapping", "the hostile article opens");
  const art = page.locator("[data-cove-widget] .art");
  const injected = await art.evaluate((a) => a.querySelectorAll("script, [onerror], a[href^='javascript'], img[src^='javascript']").length);
  const links = await art.locator(".body a, div > a").count();
  await page.waitForTimeout(300);
  check(injected == 0 && links == 0 && (await page.evaluate(() => window.pwned)) === undefined,
    "no script, event handler or javascript: link from an article reaches the page");

  // 6. Esc closes; focus returns to the launcher.
  await page.keyboard.press("Escape");
  await until(async () => (await page.locator("[data-cove-widget] dialog").count()) == 0, "Esc closes the dialog");
  check(await launcher.evaluate((b) => b.getRootNode().activeElement == b), "focus returns to the launcher");
  const ownAfter = await page.locator("#own").evaluate((b) => getComputedStyle(b).backgroundColor + getComputedStyle(b).fontSize);
  check(ownBefore == ownAfter && ownAfter.startsWith("rgb(214, 40, 40)"), "the page's own styles are untouched");
  await page.locator("#own").click();
  check(await page.evaluate(() => window.ownClicks == 1 && window.ownMarker == "intact"), "the page's own script still works");

  // 7. Han script: a wrong character still finds the article (bigrams).
  await page.goto(ORIGIN + "/?lang=zh-CN");
  await launcher.click();
  await input.waitFor();
  await input.pressSequentially("如何退获", { delay: 20 });
  await until(async () => (await top3()).includes("zh-returns"), "'如何退获' (one wrong character) finds 如何退货");
  await input.fill("");
  await input.pressSequentially("配送时间", { delay: 20 });
  await until(async () => (await top3())[0] == "zh-shipping", "'配送时间' ranks the Chinese shipping article first");
  await page.keyboard.press("Escape");

  // German: diacritics folded, swapped letters tolerated.
  await page.goto(ORIGIN + "/?lang=de-AT");
  await launcher.click();
  await input.waitFor();
  await input.pressSequentially("Rucksednung ", { delay: 20 });
  await until(async () => (await top3())[0] == "de-returns", "'Rucksednung' finds Rücksendung on a de-AT page");
  await page.keyboard.press("Escape");

  // 8. Exit survey, answered offline: queued, then delivered exactly once.
  await page.goto(ORIGIN + "/checkout");
  await launcher.waitFor();
  await page.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -2, relatedTarget: null, bubbles: true })));
  const form = page.locator("[data-cove-widget] dialog form");
  await form.waitFor();
  check(await page.locator("[data-cove-widget] dialog h2").textContent() == "Before you go…", "the exit survey appears when the pointer leaves through the top");
  await context.setOffline(true);
  await form.locator(".nps label", { hasText: /^9$/ }).click();
  await form.locator("label", { hasText: "Shipping cost or time" }).click();
  await form.locator("textarea").fill("Faster delivery to Norway, please, \"soon\"");
  await form.locator("button[type=submit]").click();
  await page.locator("[data-cove-widget] dialog [role=status]").waitFor();
  const queued = await page.evaluate(() => JSON.parse(localStorage.getItem("cove:demo:queue")));
  check(queued && queued.length == 1, "offline, the answer waits in the browser's queue");
  const results = async () => (await (await api("/surveys/exit/results")).json());
  await page.waitForTimeout(2500);
  check((await results()).responses == 0, "nothing reached the host while offline");
  await context.setOffline(false);
  await until(async () => (await results()).responses == 1, "back online, the answer arrives");
  await until(async () => (await page.evaluate(() => JSON.parse(localStorage.getItem("cove:demo:queue")).length)) == 0, "the queue empties once the host has it");
  // The browser resends the same answer (as a beacon would): still one.
  const replay = await page.evaluate(async ({ cove, answer }) =>
    (await fetch(cove + "/public/v1/demo/answers", { method: "POST", body: JSON.stringify({ answers: [answer] }) })).json(), { cove: COVE, answer: queued[0] });
  check(replay.duplicates && replay.duplicates[0] == queued[0].id, "a resent answer is recognised as a duplicate");
  await page.reload();
  await launcher.waitFor();
  await page.waitForTimeout(1000);
  const r = await results();
  check(r.responses == 1, "exactly one answer stored (" + r.responses + ")");
  const nps = r.questions.find((q) => q.id == "nps").nps;
  check(nps.promoters == 1 && nps.score == 100, "results count the 9 as a promoter (NPS " + nps.score + ")");
  const csv = await (await api("/surveys/exit/results.csv")).text();
  check(csv.includes(queued[0].id) && csv.includes("shipping") && csv.includes('""soon""'), "the CSV export has the answer, quoted");

  // 9. Answered: the survey does not come back.
  await page.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -2, relatedTarget: null, bubbles: true })));
  await page.waitForTimeout(1000);
  check((await page.locator("[data-cove-widget] dialog").count()) == 0, "an answered survey is not shown again");

  // 10. Other triggers, each for a new visitor (fresh browser storage).
  const timed = await api("/surveys/a-timed", { method: "PUT", body: JSON.stringify({
    title: "Still looking?", questions: [{ id: "q", kind: "text", prompt: "What are you looking for?" }],
    targeting: { paths: ["/timed*"] }, trigger: { exit_intent: false, seconds_on_page: 1 },
  }) });
  check(timed.ok, "merchant adds a time-on-page survey for /timed pages");
  await page.waitForTimeout(2100); // public config cache
  const visitor = await browser.newContext();
  const p2 = await visitor.newPage();
  p2.on("pageerror", (e) => errors.push(String(e)));
  await p2.goto(ORIGIN + "/timed/offer");
  const timedSurvey = p2.locator("[data-cove-widget] dialog h2", { hasText: "Still looking?" });
  await until(() => timedSurvey.isVisible(), "a time-on-page survey appears after its delay");
  await visitor.close();
  const phone = await browser.newContext({ isMobile: true, hasTouch: true, viewport: { width: 390, height: 700 } });
  const p3 = await phone.newPage();
  p3.on("pageerror", (e) => errors.push(String(e)));
  await p3.goto(ORIGIN + "/product");
  await p3.locator("[data-cove-widget] button.l").waitFor();
  await p3.evaluate(async () => {
    scrollTo(0, 2000);
    await new Promise((r) => setTimeout(r, 120));
    scrollTo(0, 0);
  });
  const phoneSurvey = p3.locator("[data-cove-widget] dialog h2", { hasText: "Before you go…" });
  await until(() => phoneSurvey.isVisible(), "on a phone, a fast scroll up counts as exit intent");
  await phone.close();

  // 11. A return, from a link on the storefront to the registered return,
  // through the forms the reference return flow asks for.
  const shopper = await browser.newContext();
  const p4 = await shopper.newPage();
  p4.on("pageerror", (e) => errors.push(String(e)));
  await p4.goto(ORIGIN + "/account#cove-returns");
  const rd = p4.locator("[data-cove-widget] dialog");
  await until(async () => (await rd.locator("h2").textContent()) == "Return an item", "a #cove-returns link opens the returns dialog");
  await rd.locator("input[name=order]").fill("DEMO-1001");
  await rd.locator("input[name=email]").fill("someone@else.example");
  await rd.locator("button[type=submit]").click();
  await until(async () => (await rd.locator("[role=alert]").textContent()) == "No order matches that number and e-mail.", "a wrong e-mail is refused in plain words");
  await rd.locator("input[name=email]").fill("demo01@shop.example");
  await rd.locator("button[type=submit]").click();
  const next = async (what) => {
    await rd.locator("button[type=submit]").click();
    await until(() => rd.locator(what).first().isVisible(), "the flow moves on to " + what);
  };
  await until(() => rd.locator("input[value=DE]").isVisible(), "the flow asks for the country");
  await rd.locator("input[value=DE]").check();
  await next("input[value=LINEN-SHIRT]");
  await rd.locator("input[value=LINEN-SHIRT]").check();
  await next("input[name=quantity]");
  // The browser's own checks removed: the host still refuses, and says why.
  await rd.locator("input[name=quantity]").evaluate((i) => i.removeAttribute("max"));
  await rd.locator("input[name=quantity]").fill("5");
  await rd.locator("button[type=submit]").click();
  await until(async () => /1 to 2/.test(await rd.locator("[data-field=quantity] .err").textContent()), "the host refuses 5 of 2 shirts and names the field");
  check(await rd.locator("input[name=quantity]").getAttribute("aria-invalid") == "true", "…the field is marked invalid for assistive technology");
  await rd.locator("input[name=quantity]").fill("1");
  await next("input[name=weight-grams]");
  await rd.locator("input[name=weight-grams]").fill("700");
  await next("input[value=too-small]");
  await rd.locator("input[value=too-small]").check();
  await rd.locator("button[type=submit]").click();
  await until(async () => /Return accepted/.test(await rd.textContent()), "the outcome shows the itemised refund");
  check(/€34\.05|34\.05/.test(await rd.textContent()), "…39.00 less 4.95 return shipping (" + (await rd.locator("strong").textContent()) + ")");
  await rd.locator("button", { hasText: "Confirm" }).click();
  await until(async () => (await rd.locator("[role=status]").textContent()) == "Your return is registered.", "the customer confirms and the return is registered");
  check(await rd.locator("[role=status]").evaluate((s) => s.getRootNode().activeElement == s), "…and focus moves to the confirmation, not to the page");
  const approved = await (await api("/returns?status=approved")).json();
  check(approved.returns.some((r) => r.order_id == "DEMO-1001" && r.sku == "LINEN-SHIRT" && r.refund_minor == 3405), "the merchant sees the approved return");
  // The same on the demo storefront itself, from the link in its menu.
  const demo = await shopper.newPage();
  demo.on("pageerror", (e) => errors.push(String(e)));
  await demo.goto(COVE + "/");
  await demo.locator("header a[href='#cove-returns']").click();
  const dd = demo.locator("[data-cove-widget] dialog");
  await until(() => dd.locator("input[name=order]").isVisible(), "the demo storefront's Returns link opens the flow");
  await dd.locator("input[name=order]").fill("DEMO-1001");
  await dd.locator("input[name=email]").fill("demo01@shop.example");
  const go = async (what) => {
    await dd.locator("button[type=submit]").click();
    await until(() => dd.locator(what).first().isVisible(), "demo storefront: on to " + what);
  };
  await go("input[value=DE]");
  await dd.locator("input[value=DE]").check();
  await go("input[value=CANVAS-TOTE]");
  await dd.locator("input[value=CANVAS-TOTE]").check();
  await go("input[name=weight-grams]");
  await dd.locator("input[name=weight-grams]").fill("1200");
  await go("input[value=changed-mind]");
  await dd.locator("input[value=changed-mind]").check();
  await dd.locator("button[type=submit]").click();
  await until(async () => /Return accepted/.test(await dd.textContent()), "demo storefront: the outcome is shown");
  await dd.locator("button", { hasText: "Confirm" }).click();
  await until(async () => (await dd.locator("[role=status]").textContent()) == "Your return is registered.", "demo storefront: a customer finishes a return");
  await shopper.close();

  // 12. An experiment on the demo storefront: the offer banner shows the
  // visitor's variation (the one the host assigns to the widget's visitor
  // id); a returning visitor's is shown from storage while the host has not
  // answered yet (no flicker); the exposure is sent once.
  const returning = await browser.newContext();
  const p5 = await returning.newPage();
  p5.on("pageerror", (e) => errors.push(String(e)));
  let exposures = 0;
  p5.on("request", (r) => { if (r.url().includes("/experiments/exposures")) exposures++; });
  await p5.goto(COVE + "/");
  await until(() => p5.locator("#offer").isVisible(), "the offer banner shows the visitor's variation");
  const shown = await p5.locator("#offer").textContent();
  const vid = await p5.evaluate(() => JSON.parse(localStorage.getItem("cove:demo:vid")));
  const mine = await (await api("/experiments/offer-banner/assign", { method: "POST", body: JSON.stringify({ attributes: { id: vid } }) })).json();
  check(mine.in_experiment && mine.value == shown, "…the variation the host assigns to this visitor (" + shown + ")");
  await until(async () => exposures == 1, "the exposure is sent");
  let answered = false;
  await p5.route("**/experiments/assign", async (route) => {
    await new Promise((r) => setTimeout(r, 3000));
    await route.continue();
    answered = true;
  });
  await p5.reload();
  await until(() => p5.locator("#offer").isVisible(), "returning: the banner is shown again");
  check(!answered, "…before the host answered (from storage: no flicker)");
  check((await p5.locator("#offer").textContent()) == shown, "…with the same variation");
  await new Promise((r) => setTimeout(r, 3500));
  check(exposures == 1, "…and the exposure is not sent again (" + exposures + ")");
  await returning.close();

  // 13. A hostile page (no CSP): clobbered document properties, generic
  // CSS, a patched Array.prototype.toJSON. The widget loads from its own
  // host only, shows, keeps its own text style, and an answer arrives.
  // A yellow accent (white on it would read 1.43:1): the text goes black.
  check((await api("/widget", { method: "PUT", body: JSON.stringify({ allowed_origins: [ORIGIN], accent: "#ffd400" }) })).ok, "merchant picks a yellow accent");
  await new Promise((r) => setTimeout(r, 2500));
  const shop = await browser.newContext();
  const p6 = await shop.newPage();
  const hostileErrors = [];
  p6.on("pageerror", (e) => hostileErrors.push(String(e)));
  let attacker = 0;
  p6.on("request", (r) => { if (r.url().includes("attacker.invalid")) attacker += r.url().endsWith("/x") ? 0 : 1; });
  await p6.goto(ORIGIN + "/checkout?hostile=1");
  const l6 = p6.locator("[data-cove-widget] button.l");
  await until(() => l6.isVisible(), "hostile page: the launcher shows despite the clobbering and div:empty");
  check(await p6.evaluate(() => document.querySelector("[data-cove-widget]").parentNode === Document.prototype.__lookupGetter__("body").call(document)), "hostile page: the widget is in the page's body, not in an image");
  const style6 = await l6.evaluate((b) => getComputedStyle(b).letterSpacing + " " + getComputedStyle(b).textTransform);
  check(style6 == "normal none", "hostile page: the page's text styles do not reach the widget (" + style6 + ")");
  const ink6 = await l6.evaluate((b) => getComputedStyle(b).color);
  check(ink6 == "rgb(0, 0, 0)", "on a yellow accent the launcher's text is black (" + ink6 + ")");
  check(await p6.evaluate(() => !document.querySelector("[data-cove-widget]").shadowRoot.querySelector("header")), "the dialog adds no second banner landmark");
  // A second tab of the same visitor, its exit survey armed.
  const p7 = await shop.newPage();
  await p7.goto(ORIGIN + "/checkout");
  await p7.locator("[data-cove-widget] button.l").waitFor();
  const before6 = (await (await api("/surveys/exit/results")).json()).responses;
  await p6.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -2, relatedTarget: null, bubbles: true })));
  const form6 = p6.locator("[data-cove-widget] dialog form");
  await form6.waitFor();
  await form6.locator(".nps label", { hasText: /^10$/ }).click();
  await form6.locator("button[type=submit]").click();
  await until(async () => (await (await api("/surveys/exit/results")).json()).responses == before6 + 1, "hostile page: with toJSON patched, the answer arrives");
  await p7.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -2, relatedTarget: null, bubbles: true })));
  await p7.waitForTimeout(2000);
  check((await p7.locator("[data-cove-widget] dialog").count()) == 0, "the other tab does not ask again once the visitor answered");
  check(attacker == 0, "hostile page: nothing is loaded from the attacker's origin (" + attacker + ")");
  check(hostileErrors.length == 0, "hostile page: no errors thrown into the page (" + hostileErrors.join("; ") + ")");
  await shop.close();
  // The same hostile page under a CSP: the widget still shows, loads
  // nothing from the attacker and throws nothing.
  const shopCsp = await browser.newContext();
  const p8 = await shopCsp.newPage();
  const cspErrors = [];
  p8.on("pageerror", (e) => cspErrors.push(String(e)));
  let attacker8 = 0;
  p8.on("request", (r) => { if (r.url().includes("attacker.invalid") && !r.url().endsWith("/x")) attacker8++; });
  await p8.goto(ORIGIN + "/checkout?hostile=1&csp=1");
  const l8 = p8.locator("[data-cove-widget] button.l");
  await until(() => l8.isVisible(), "hostile page with a CSP: the launcher shows");
  await l8.click();
  await p8.locator("[data-cove-widget] input[role=combobox]").pressSequentially("refund ", { delay: 20 });
  await until(() => p8.locator("[data-cove-widget] li[role=option]").first().isVisible(), "hostile page with a CSP: search answers");
  check(attacker8 == 0 && cspErrors.length == 0, "hostile page with a CSP: nothing from the attacker, no errors (" + cspErrors.join("; ") + ")");
  await shopCsp.close();

  // 14. Accessibility with any accent the API accepts: axe-core (which
  // reads the open shadow root) finds nothing serious or critical on the
  // launcher, the search dialog with results, and an article.
  for (const accent of ["#ffd400", "#ffffff", "#000000", "#777777", "#ff0000", "#00ff00", "#0057b8", "#7a1fa2"]) {
    const put14 = await api("/widget", { method: "PUT", body: JSON.stringify({ allowed_origins: [ORIGIN], accent }) });
    if (!check(put14.ok, `the API accepts the accent ${accent}`)) continue;
    await new Promise((r) => setTimeout(r, 2200)); // the public config cache
    const ctx14 = await browser.newContext();
    const p14 = await ctx14.newPage();
    await p14.goto(ORIGIN + "/?plain=1");
    const axe = async (state) => {
      await p14.evaluate(axeSource);
      const result = await p14.evaluate(() => window.axe.run(document.querySelector("[data-cove-widget]"), { resultTypes: ["violations"] }));
      const serious = result.violations.filter((v) => v.impact == "serious" || v.impact == "critical");
      for (const v of serious) console.log("     " + v.id + ": " + v.help + " — " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; "));
      check(serious.length == 0, `accent ${accent}, ${state}: axe-core finds nothing serious (${result.violations.length} minor)`);
    };
    const l14 = p14.locator("[data-cove-widget] button.l");
    await l14.waitFor();
    await axe("launcher");
    await l14.click();
    const in14 = p14.locator("[data-cove-widget] input[role=combobox]");
    await in14.pressSequentially("refund ", { delay: 20 });
    await p14.locator("[data-cove-widget] li[role=option]").first().waitFor();
    await axe("search results");
    await p14.locator("[data-cove-widget] li[role=option]").first().click();
    await p14.locator("[data-cove-widget] .art h3").waitFor();
    await axe("article");
    await ctx14.close();
  }

  const violations = await page.evaluate(() => window.cspViolations);
  check(violations.length == 0, "no CSP violations under script-src HOST 'wasm-unsafe-eval' (" + violations.join("; ") + ")");
  check(errors.length == 0, "no errors thrown into the page (" + errors.join("; ") + ")");
} catch (e) {
  check(false, "unexpected: " + (e && e.stack || e));
} finally {
  await browser.close();
  server.close();
}
console.log(failures ? `${failures} browser check(s) failed` : "all browser checks passed");
process.exit(failures ? 1 : 0);
