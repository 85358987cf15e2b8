// The merchant console in Debian's Chromium (headless) against a real
// Cove host in demo mode. Run by tests/tests/console.rs, which passes
// COVE_URL, COVE_KEY (the demo merchant's key), COVE_RIVAL_KEY (another
// merchant's), COVE_CANDIDATE (a second fatigue policy version, for the
// canary), WIDGET_NODE_MODULES and SHOTS (where screenshots go).
//
// A merchant signs in, every page renders with the seeded data, charts are
// drawn, axe-core finds no serious violation in either language, an article
// and a survey made in the console reach the storefront widget, the
// results of answers show as charts, a return in the human queue is
// approved with a note, writes need the CSRF token, another merchant sees
// nothing of it, and sign-out ends the session.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { launch } from "./chromium.mjs";

const COVE = process.env.COVE_URL;
const KEY = process.env.COVE_KEY;
const RIVAL = process.env.COVE_RIVAL_KEY;
const SHOTS = process.env.SHOTS;
const require = createRequire(process.env.WIDGET_NODE_MODULES + "/");
const axeSource = require("fs").readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(SHOTS, { recursive: true });

let failures = 0;
const check = (ok, what) => {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
  return ok;
};
const PAGES = ["overview", "kb", "surveys", "widget", "customers", "rfm", "messaging", "returns", "experiments", "policies", "decisions", "keys", "team", "account"];

const browser = await launch();
const context = await browser.newContext({ locale: "en-US" });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(String(e)));
// Refused requests this test makes on purpose show as "Failed to load resource".
page.on("console", (m) => { if (m.type() == "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text()); });

const ready = async (id) => {
  await page.waitForSelector(`main[data-ready="${id}"]`, { timeout: 15000 });
  // Every chart drawn by Chart.js (or, without it, shown as its table).
  await page.waitForFunction(() => [...document.querySelectorAll("figure.chart")].every((f) => f.dataset.drawn), null, { timeout: 15000 });
};
const axe = async (what, p = page) => {
  await p.evaluate(axeSource);
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = result.violations.filter((v) => v.impact == "serious" || v.impact == "critical");
  for (const v of serious) console.log("     " + v.id + ": " + v.help + " — " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; "));
  check(serious.length == 0, `${what}: axe-core finds no serious or critical violation (${result.violations.length} minor)`);
};

try {
  // 1. Sign in: a wrong key is refused in words; the right one opens the overview.
  await page.goto(COVE + "/console");
  await axe("sign-in page");
  await page.fill("#email", "nobody@demo.example");
  await page.fill("#password", "not the password");
  await page.click("form.signin button[type=submit]");
  await page.waitForSelector("form.signin [role=alert]:not(:empty)");
  check(/do not match/.test(await page.textContent("form.signin [role=alert]")), "a wrong password is refused with a plain message");
  await page.click("details.withkey summary");
  await page.fill("#key", "ck_not_a_key");
  await page.click("details.withkey button[type=submit]");
  const refusedKey = await page.waitForFunction(() => /not known/.test(document.querySelector("form.signin [role=alert]").textContent), null, { timeout: 5000 }).then(() => true, () => false);
  check(refusedKey, "a wrong key is refused with a plain message");
  await page.fill("#key", KEY);
  await page.click("details.withkey button[type=submit]");
  await ready("overview");
  const cookie = (await context.cookies()).find((c) => c.name == "cove_session");
  check(cookie && cookie.httpOnly && cookie.sameSite == "Strict", "the session cookie is HttpOnly and SameSite=Strict");
  check(await page.evaluate(() => !document.cookie.includes("cove_session")), "scripts cannot read the session cookie");

  // 2. Every page renders with the demo merchant's data, keyboard first.
  for (const id of PAGES) {
    await page.goto(COVE + "/console#/" + id);
    await ready(id);
    check((await page.textContent("main h1")).trim().length > 0, `${id}: renders with a heading`);
    await axe(id + " (English)");
    await page.screenshot({ path: `${SHOTS}/console-${id}-en.png`, fullPage: true });
  }
  await page.goto(COVE + "/console#/kb");
  await ready("kb");
  check((await page.locator("main table").first().locator("tbody tr").count()) >= 3, "kb: the demo articles are listed");
  await page.goto(COVE + "/console#/policies");
  await ready("policies");
  check(await page.locator("section[data-slot=fatigue-policy] canvas").count() == 1, "policies: the fatigue policy has its decisions chart");
  check(/fatigue-policy@/.test(await page.textContent("main table")), "policies: the bound plugin version is shown");
  check(/cove · signed/.test(await page.textContent("main table")), "policies: the reference plugins are signed by cove (" + (await page.textContent("main table")).slice(0, 200) + ")");
  // The fatigue policy describes its settings: a form, checked as the
  // merchant types, then by the plugin; what is in force, in words.
  const gap = page.locator('section[data-slot=fatigue-policy] input[data-key="min-gap-hours"]');
  check((await gap.getAttribute("min")) == "0" && /default: 12/.test(await gap.getAttribute("placeholder")), "policies: a described setting is a bounded field with its default shown");
  await gap.fill("100000");
  check(await gap.evaluate((el) => !el.checkValidity()), "policies: a value out of bounds is flagged as the merchant types");
  check((await page.locator("section[data-slot=fatigue-policy] [data-pattern='cap.*']").count()) == 1, "policies: a pattern setting (cap per channel) has its own rows");
  await gap.fill("18");
  await page.click("section[data-slot=fatigue-policy] form[data-settings] button[type=submit]");
  await page.waitForFunction(() => /Saved|已保存/.test(document.querySelector("section[data-slot=fatigue-policy] form[data-settings] [role=status]").textContent));
  const applied = await (await fetch(COVE + "/v1/merchants/demo/slots", { headers: { authorization: "Bearer " + KEY } })).json();
  const fatigue = applied.slots.find((x) => x.slot == "fatigue-policy");
  check(fatigue.config["min-gap-hours"] == "18", "policies: the form's value is applied (" + JSON.stringify(fatigue.config) + ")");
  await page.reload();
  await ready("policies");
  const inForce = await page.textContent("section[data-slot=fatigue-policy] [data-in-force]");
  check(/min-gap-hours: 18 \(set by you\)/.test(inForce) && /quiet-hours: 21:00-09:00 \(default\)/.test(inForce), "policies: the settings in force are shown in words (" + inForce.slice(0, 300) + ")");
  // Try a new version: the same one, shadowing itself, agrees on all.
  const live = (await page.textContent("section[data-slot=fatigue-policy] h2")).split(" · ")[1].trim();
  check(!(await page.getAttribute("details[data-try=fatigue-policy]", "open")), "policies: trying a new version is folded away until used");
  check((await page.locator("details[data-try=rfm-scorer]").count()) == 1 && (await page.locator("details[data-try=rfm-scorer] [data-canary]").count()) == 0, "policies: a slot run in batches offers no canary");
  await page.click("details[data-try=fatigue-policy] > summary");
  await page.fill("#shadow-fatigue-policy", live);
  await page.click("section[data-slot=fatigue-policy] form[data-shadow-start] button[type=submit]");
  await page.waitForSelector("section[data-slot=fatigue-policy] [data-shadow-summary]");
  check(/has not seen a decision yet|agrees with/.test(await page.textContent("section[data-slot=fatigue-policy] [data-shadow-summary]")), "policies: a new version is tried as a shadow, its report in words");
  // Then given a share of customers (COVE_CANDIDATE, published beside the
  // live version), and rolled back by hand.
  await page.fill("#canary-fatigue-policy", process.env.COVE_CANDIDATE);
  await page.fill("#canary-steps-fatigue-policy", "5, 50");
  await page.click("section[data-slot=fatigue-policy] form[data-canary-start] button[type=submit]");
  await page.waitForSelector("section[data-slot=fatigue-policy] [data-canary-summary=running]");
  const canary = await page.textContent("section[data-slot=fatigue-policy] [data-canary-summary]");
  check(canary.includes(process.env.COVE_CANDIDATE + " answers for 5% of customers (step 1 of 2)"), "policies: a canary answers for a share of customers, in words (" + canary + ")");
  check(/Raise to 50%/.test(await page.textContent("section[data-slot=fatigue-policy] form[data-canary-advance] button")), "policies: the canary's next step is offered");
  await page.waitForSelector("section[data-canary=fatigue-policy] figure.chart[data-drawn=true]");
  await page.click("section[data-slot=fatigue-policy] form[data-canary-rollback] button[type=submit]");
  await page.waitForSelector("section[data-slot=fatigue-policy] [data-canary-summary=rolled_back]");
  check(/Rolled back: rolled back by/.test(await page.textContent("section[data-slot=fatigue-policy] [data-canary-summary]")), "policies: the canary is rolled back by hand, and says so");
  check((await page.locator("section[data-canary=fatigue-policy] [data-canary-history] tbody tr").count()) == 2, "policies: the canary's history lists its start and its rollback");
  await page.reload();
  await ready("policies");

  // Keyboard: Tab from the top reaches the skip link, then the navigation.
  await page.goto(COVE + "/console#/overview");
  await ready("overview");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.classList.contains("skip")), "keyboard: the first Tab lands on “skip to content”");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.closest("nav") != null), "keyboard: the next Tab reaches the navigation");

  // Synonyms: the language's suggestions are shown; a merchant's own group
  // makes a shopper's word find an article it does not contain.
  await page.goto(COVE + "/console#/kb");
  await ready("kb");
  await page.selectOption("#kb-syn-locale", "en");
  // The box first holds the page's default language; wait for English.
  await page.waitForFunction(() => /gift card, voucher/.test(document.querySelector("[data-synonyms]").value), null, { timeout: 10000 }).catch(() => {});
  check((await page.inputValue("[data-synonyms]")).includes("gift card, voucher"), "kb: the English synonym suggestions are shown");
  const tryIt = async (q) => {
    await page.fill("[data-try]", "");
    await page.fill("[data-try]", q);
    await page.waitForTimeout(700);
    return page.locator("[data-try-results] li").first().getAttribute("data-id");
  };
  check((await tryIt("unicorn")) == null, "kb: 'unicorn' finds nothing before it is a synonym");
  await page.fill("[data-synonyms]", (await page.inputValue("[data-synonyms]")) + "\nunicorn, gift card");
  await page.click("text=Save synonyms");
  await page.waitForSelector("section:has([data-synonyms]) [role=status]:has-text('Saved')");
  check((await tryIt("unicorn")) == "en-giftcards", "kb: after saving 'unicorn, gift card', 'unicorn' finds the gift cards article");
  await page.click("text=Restore the suggestions");
  await page.waitForFunction(() => !document.querySelector("[data-synonyms]").value.includes("unicorn"));
  check((await tryIt("unicorn")) == null, "kb: restoring the suggestions takes 'unicorn' away again");

  // 3. An article written in the console, with a live preview, reaches the widget.
  await page.goto(COVE + "/console#/kb");
  await ready("kb");
  await page.click("text=New article");
  await page.fill("form input >> nth=0", "console-gift-cards");
  await page.fill("form input >> nth=1", "en");
  await page.fill("form input >> nth=2", "Gift cards never expire");
  await page.fill("form textarea", "Our **gift cards** never expire.\n\n- use them online\n- or in a store");
  await page.waitForSelector("[data-preview=article] strong", { timeout: 5000 });
  check((await page.textContent("[data-preview=article] strong")) == "gift cards", "kb: the preview renders the Markdown");
  await page.click("form button[type=submit]");
  await page.waitForSelector("form [role=status]:has-text('Saved')");
  const stored = await page.evaluate(() => fetch("/v1/merchants/demo/articles?locale=en").then((r) => r.json()));
  check(stored.articles.some((a) => a.id == "console-gift-cards" && a.title == "Gift cards never expire"), "kb: the article is stored as written");
  // The storefront (the demo page with the widget) finds it.
  const shop = await context.newPage();
  await shop.goto(COVE + "/");
  await shop.waitForTimeout(2200); // the widget's public config is cached for 2 s
  await shop.reload();
  await shop.click("[data-cove-widget] button.l");
  await shop.locator("[data-cove-widget] input.in").fill("gift card expire");
  await shop.waitForSelector("[data-cove-widget] li[data-id=console-gift-cards]", { timeout: 10000 }).then(() => check(true, "widget: the new article is found on the storefront"),
    () => check(false, "widget: the new article is found on the storefront"));
  // A search that finds nothing is counted for the merchant.
  await shop.locator("[data-cove-widget] input.in").fill("qwxz nothing matches");
  await shop.waitForTimeout(2500);

  // 4. A survey built in the console reaches the widget's config.
  await page.goto(COVE + "/console#/surveys");
  await ready("surveys");
  await page.click("text=New survey");
  await page.fill("form input >> nth=0", "console-nps");
  await page.fill("form input >> nth=1", "How are we doing?");
  await page.fill("form input >> nth=2", "我们做得怎么样？");
  check(/How are we doing\?/.test(await page.textContent("[data-preview=survey]")), "surveys: the preview follows the builder");
  await page.selectOption("#sv-plang", "zh");
  check(/我们做得怎么样/.test(await page.textContent("[data-preview=survey]")), "surveys: the preview shows the Chinese texts");
  await page.click("form button[type=submit]");
  await page.waitForSelector("form [role=status]:has-text('Saved')");
  let config = "";
  for (let i = 0; i < 50 && !config.includes("console-nps"); i++) {
    await shop.waitForTimeout(200); // the widget's public config is cached for 2 s
    config = JSON.stringify(await shop.evaluate(() => fetch("/public/v1/demo/config?locale=en", { cache: "no-store" }).then((r) => r.json())));
  }
  check(config.includes("console-nps"), "widget: the new survey is in the storefront's config");

  // 5. Answers become charts: NPS trend, 0–10 spread.
  const answers = [10, 9, 9, 7, 3].map((r, i) => ({ id: "console-answer-" + i, survey: "console-nps", visitor: "console-visitor-" + i, locale: "en", page: "/", answers: { nps: r } }));
  // Sent as the widget sends them: without cookies. The same request with
  // the console's cookie (this browser is signed in) and no CSRF token is
  // refused, public path or not.
  const withCookie = await shop.evaluate((a) => fetch("/public/v1/demo/answers", { method: "POST", body: JSON.stringify({ answers: a }) }).then((r) => r.status), answers);
  check(withCookie == 403, "a cookie-carrying write without the CSRF token is refused: " + withCookie);
  // Each visitor's widget sends its own.
  const sent = await shop.evaluate((all) => Promise.all(all.map((a) => fetch("/public/v1/demo/answers", { method: "POST", body: JSON.stringify({ answers: [a] }), credentials: "omit" }).then((r) => r.json()))), answers);
  check(sent.every((s) => s.accepted && s.accepted.length == 1), "five answers reach the host: " + JSON.stringify(sent));
  await page.goto(COVE + "/console#/surveys");
  await ready("surveys");
  await page.click("tr:has-text('How are we doing') button:has-text('Results')");
  await page.waitForSelector("[data-results=console-nps]");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-results] figure.chart")].length >= 2 && [...document.querySelectorAll("[data-results] figure.chart")].every((f) => f.dataset.drawn == "true"));
  check((await page.getAttribute("[data-nps]", "data-nps")) == "40", "surveys: NPS of 10, 9, 9, 7, 3 is 40 (3 promoters, 1 detractor)");
  await axe("survey results");
  // A shared link opens the report without a login; stopping every shared
  // link closes it.
  await page.click("button:has-text('Share a link')");
  const link = await (await page.waitForSelector("[data-share] a")).getAttribute("href");
  const opened = async () => (await fetch(COVE + link)).status;
  check((await opened()) == 200, "surveys: a shared link opens the report without a login");
  await page.click("button:has-text('Stop every shared link')");
  await page.waitForSelector("[data-share]:has-text('stopped working')");
  check((await opened()) == 401, "surveys: after stopping every shared link, it no longer opens");
  await page.screenshot({ path: `${SHOTS}/console-survey-results-en.png`, fullPage: true });

  // The missed search shows on the KB page.
  await page.goto(COVE + "/console#/kb");
  await ready("kb");
  check(/qwxz nothing matches/.test(await page.textContent("main")), "kb: the storefront search that found nothing is listed");

  // Customers: a shop's file uploaded with progress, a bad row named, a
  // profile opened, then erased on request.
  await page.goto(COVE + "/console#/customers");
  await ready("customers");
  check((await page.locator("main table").first().locator("tbody tr").count()) >= 20, "customers: the demo customers are listed");
  await page.setInputFiles("input[type=file]", { name: "customers.csv", mimeType: "text/csv",
    buffer: Buffer.from("id,email,country,time_zone,tags\nshopper-1,ana@shop.example,DE,Europe/Berlin,vip\nshopper-2,not-an-address,FR,Europe/Paris,\n") });
  await page.click("text=Upload");
  await page.waitForSelector("[data-import=done]");
  check(/1 new/.test(await page.textContent("[data-import=done]")) && /not an e-mail address/.test(await page.textContent("main")), "customers: the upload keeps the good row and names the bad one");
  // Among hundreds of customers, the filter finds the VIPs.
  await page.fill("[data-filter-tag]", "vip");
  await page.click("form.row button[type=submit]");
  await page.waitForSelector("button.link:has-text('shopper-1')");
  await page.click("button.link:has-text('shopper-1')");
  await page.waitForSelector("[data-profile=shopper-1]");
  check(/ana@shop.example/.test(await page.textContent("[data-profile=shopper-1]")), "customers: the profile opens");
  await axe("customer profile");
  page.once("dialog", (d) => d.accept());
  await page.click("text=Erase this customer");
  await page.waitForSelector("[data-profile] [role=status]:has-text('erased')");
  check((await page.evaluate(() => fetch("/v1/merchants/demo/customers/shopper-1").then((r) => r.status))) == 404, "customers: an erased customer is gone");

  // Returns: a return the flow handed to a person (an upset customer)
  // waits in the queue; the merchant approves it with a note.
  const flow = async (path, body) => (await fetch(COVE + "/public/v1/demo/returns" + path, { method: "POST", headers: { origin: COVE }, body: JSON.stringify(body) })).json();
  const started = await flow("", { order: "DEMO-1001", email: "demo01@shop.example" });
  for (const answers of [{ country: "DE" }, { sku: "CANVAS-TOTE" }, { "weight-grams": "900" }, { reason: "damaged", comment: "Terrible, the strap was torn!!!" }])
    await flow("/" + started.id + "/step", { token: started.token, answers });
  const queued = await flow("/" + started.id + "/submit", { token: started.token });
  check(queued.status == "review", "returns: an upset customer's return goes to the queue (" + queued.status + ")");
  // And one the flow approved, with a carrier pickup (a heavy parcel).
  const picked = await flow("", { order: "DEMO-1001", email: "demo01@shop.example" });
  for (const answers of [{ country: "DE" }, { sku: "LINEN-SHIRT" }, { quantity: "1" }, { "weight-grams": "6000" }, { reason: "too-large" }])
    await flow("/" + picked.id + "/step", { token: picked.token, answers });
  check((await flow("/" + picked.id + "/submit", { token: picked.token })).status == "approved", "returns: a heavy parcel's return is approved");
  await page.goto(COVE + "/console#/returns");
  await ready("returns");
  check(/Pickup requested/.test(await page.locator("[data-approved] tr", { hasText: "DEMO-1001" }).textContent()), "returns: the approved return shows its requested pickup");
  check(/of the 1,024 MB your plan allows/.test(await page.locator("[data-photo-storage]").textContent()), "returns: the page shows what photos take of the upload quota");
  const row = page.locator("[data-queue] tbody tr", { hasText: "DEMO-1001" });
  check(/Priority/.test(await row.textContent()), "returns: the queue shows it, in the priority queue");
  await row.locator("input").fill("Refund in full, sorry about the strap");
  await row.locator("button[type=submit]").click();
  await page.waitForSelector("[data-queue] [role=status]:has-text('accepted')");
  const decided = await (await fetch(COVE + "/v1/merchants/demo/returns/" + started.id, { headers: { authorization: "Bearer " + KEY } })).json();
  check(decided.status == "accepted" && decided.note == "Refund in full, sorry about the strap", "returns: approved with the note, as recorded");

  // Experiments: the demo's tests read in plain words, with charts; a new
  // one is set up from the form; one is stopped with the winner shown.
  await page.goto(COVE + "/console#/experiments");
  await ready("experiments");
  await page.selectOption("#experiment", "offer-banner");
  // The offer banner's results, not the page's first experiment's.
  await page.waitForFunction(() => /Free shipping|10% off/.test((document.querySelector("[data-verdict]") || {}).textContent || ""));
  check(/likely to be the best|No clear winner/.test(await page.textContent("[data-verdict]")), "experiments: the verdict is one sentence (" + (await page.textContent("[data-verdict]")) + ")");
  check((await page.locator("[data-experiment] figure.chart").count()) >= 2, "experiments: the rate over time and the chance to be best are charts");
  check(/Traffic split as planned|does not match the plan/.test(await page.textContent("[data-srm]")), "experiments: the traffic-split check in words");
  // Revenue next to conversion: a sentence, a chart, what CUPED took out.
  check(/Revenue per visitor: .* against /.test(await page.textContent("[data-revenue-verdict]")), "experiments: revenue per visitor in one sentence (" + (await page.textContent("[data-revenue-verdict]")) + ")");
  check((await page.locator("[data-revenue] figure.chart").count()) == 1, "experiments: revenue per visitor is a chart");
  check(/narrower \(CUPED\)/.test(await page.textContent("[data-cuped]")), "experiments: what earlier spending took out (" + (await page.textContent("[data-cuped]")) + ")");
  check(/€/.test(await page.textContent("[data-revenue-arms]")), "experiments: revenue and average order in euros");
  await page.selectOption("#experiment", "product-page");
  await page.waitForSelector("[data-factors] figure.chart[data-drawn]");
  check(/photo|headline/.test(await page.textContent("[data-factors] .summary")), "experiments: a multivariate test shows each factor's effect");
  await page.selectOption("#experiment", "hero-bandit");
  await page.waitForSelector("[data-srm=bandit]");
  await page.waitForFunction(() => /beach|city|forest/.test((document.querySelector("[data-verdict]") || {}).textContent || ""));
  check(/current shares/.test(await page.textContent("[data-srm=bandit]")), "experiments: a bandit shows its current shares");
  await page.fill("#new-name", "Checkout button colour");
  await page.fill("#new-variations", "Green\nOrange");
  await page.click("form.new-experiment button[type=submit]");
  await page.waitForSelector("#experiment option[value=checkout-button-colour]", { state: "attached" });
  const created = await (await fetch(COVE + "/v1/merchants/demo/experiments/checkout-button-colour", { headers: { authorization: "Bearer " + KEY } })).json();
  check(created.status == "running" && created.definition.variations.join() == "Green,Orange", "experiments: the form sets up and starts a test");
  await page.selectOption("#experiment", "offer-banner");
  await page.waitForFunction(() => /Free shipping|10% off/.test((document.querySelector("[data-verdict]") || {}).textContent || ""));
  await page.waitForSelector("#serve");
  await page.selectOption("#serve", "winner");
  await page.click("[data-experiment] form.actions button[type=submit]");
  await page.waitForSelector("[data-experiment] form.actions [role=status]");
  check(/everyone sees/.test(await page.textContent("[data-experiment] form.actions")), "experiments: stopping shows who sees what now");
  const stopped = await (await fetch(COVE + "/v1/merchants/demo/experiments/offer-banner", { headers: { authorization: "Bearer " + KEY } })).json();
  check(stopped.status == "stopped" && stopped.served != null, "experiments: the test is stopped, serving variation " + stopped.served);

  // Customer value: the demo's run reads as one sentence, charts and a heat
  // map; a customer's predictions in words; a second run shows who moved.
  await page.goto(COVE + "/console#/rfm");
  await ready("rfm");
  await page.waitForSelector("[data-lead]");
  check(/customers scored as of/.test(await page.textContent("[data-lead]")), "rfm: the run in one sentence (" + (await page.textContent("[data-lead]")) + ")");
  const cells = await page.locator("[data-heatmap] tbody td").count();
  check(cells >= 9, "rfm: the recency × frequency grid is a heat map (" + cells + " cells)");
  check((await page.locator("[data-run] figure.chart").count()) >= 3, "rfm: segment sizes, tiers and lifetime value are charts");
  check((await page.locator("[data-movement=none]").count()) == 1, "rfm: the first run says movements show from the next");
  await page.fill("#rfm-customer", "demo-001");
  await page.click("form.lookup button[type=submit]");
  await page.waitForSelector("[data-customer] p");
  check(/demo-001 is in .* likely still active/.test(await page.textContent("[data-customer]")), "rfm: a customer's predictions in words");
  // demo-001 bought a week ago: the demo's fit says so (a small shop's
  // nonsense fit would have shown 1%).
  const active = Number(((await page.textContent("[data-customer]")).match(/(\d+)% likely still active/) || [])[1]);
  check(active >= 50 && (await page.locator("[data-predictions-off]").count()) == 0, "rfm: a customer who bought last week is likely still active (" + active + "%)");
  await page.click("form.actions button[type=submit]");
  await page.waitForSelector("[data-movement] table", { timeout: 30000 });
  check(/moved into champions or loyal/.test(await page.textContent("[data-movement]")), "rfm: a second run shows the movement between runs");

  // Messaging: a plan made over the API shows in the report and in the
  // customer's timeline with its reason.
  const planned = await (await fetch(COVE + "/v1/merchants/demo/sends/plan", { method: "POST", headers: { authorization: "Bearer " + KEY, "content-type": "application/json" },
    body: JSON.stringify({ customer_id: "demo-001", message: { category: "transactional", channels: ["email"] } }) })).json();
  check(planned.status == "planned", "messaging: a transactional e-mail is planned (" + JSON.stringify(planned) + ")");
  await page.goto(COVE + "/console#/messaging");
  await ready("messaging");
  check(/contacts planned/.test(await page.textContent("[data-lead]")), "messaging: the period in one sentence");
  check((await page.locator("main figure.chart").count()) >= 2, "messaging: contacts per week and the channel mix are charts");
  await page.fill("#messaging-customer", "demo-001");
  await page.click("form.lookup button[type=submit]");
  await page.waitForSelector("[data-timeline] table");
  check(/email: allow/.test(await page.textContent("[data-timeline]")), "messaging: the customer's timeline says why each contact was allowed");
  check(/ranked email/.test(await page.textContent("[data-timeline]")), "messaging: the timeline shows the channel chooser's ranking");
  check(/Contact fatigue/.test(await page.textContent("[data-rules]")) && /Channel choice/.test(await page.textContent("[data-rules]")), "messaging: the rules in force for both policies");
  await page.click("form.batch button[type=submit]");
  await page.waitForFunction(() => document.querySelector("form.batch progress").value == 1, null, { timeout: 30000 });
  check(/planned/.test(await page.textContent("[data-batch-progress]")), "messaging: a segment send runs to the end with its progress");

  // 6. The tag to copy names this host and merchant.
  await page.goto(COVE + "/console#/widget");
  await ready("widget");
  const tag = await page.textContent("[data-tag]");
  check(tag.includes(COVE + "/widget.js") && tag.includes('data-merchant="demo"'), "widget: the tag to copy points at this host");
  // A pale accent is warned about (the launcher would vanish on a white
  // page); a dark green one is not. The preview's text follows the rule
  // the widget uses (black on yellow).
  const accentInput = page.locator("form input[type=color]");
  await accentInput.fill("#ffff66");
  await accentInput.dispatchEvent("input");
  check(/1\.\d:1/.test(await page.textContent("[data-accent-warning]")), "widget: a pale yellow accent is warned about, with its contrast");
  check((await page.locator("[data-preview=widget] .launch").evaluate((e) => getComputedStyle(e).color)) == "rgb(0, 0, 0)", "widget: the preview writes black on the yellow accent, as the widget does");
  await accentInput.fill("#0b6e4f");
  await accentInput.dispatchEvent("input");
  check((await page.textContent("[data-accent-warning]")) == "", "widget: a dark green accent gets no warning");

  // Inbound SMS: the merchant stores its Twilio token and gets the webhook.
  await page.goto(COVE + "/console#/messaging");
  await ready("messaging");
  check(/Not set up/.test(await page.textContent("[data-sms-provider]")), "messaging: inbound SMS starts not set up");
  await page.fill("[data-sms] input[type=password]", "0123456789abcdef0123456789abcdef");
  await page.click("[data-sms] button[type=submit]");
  await page.waitForFunction(() => /Set up/.test(document.querySelector("[data-sms-provider]").textContent));
  check((await page.textContent("[data-sms-provider]")).includes(COVE + "/hooks/twilio/demo/sms"), "messaging: once the Twilio token is stored, the webhook to give Twilio is shown");
  check((await page.inputValue("[data-sms] input[type=password]")) == "", "messaging: the token is not left in the page");

  // API keys: a new read-only key is shown once, listed by its prefix,
  // works for reading, and stops once revoked.
  await page.goto(COVE + "/console#/keys");
  await ready("keys");
  await page.fill("[data-key-name]", "BI dashboard");
  await page.click("form button[type=submit]");
  await page.waitForSelector("[data-secret]");
  const secret = (await page.textContent("[data-secret]")).trim();
  check(/^ck_[0-9a-f]{48}$/.test(secret), "keys: a new key is shown once, in full");
  check((await page.textContent("main table")).includes(secret.slice(0, 9) + "…"), "keys: the list shows it by its prefix only");
  const asKey = (k) => page.evaluate((k) => fetch("/v1/merchants/demo/articles", { headers: { authorization: "Bearer " + k } }).then((r) => r.status), k);
  check((await asKey(secret)) == 200, "keys: the new read key reads");
  page.once("dialog", (d) => d.accept());
  await page.click("[data-revoke='BI dashboard']");
  await page.waitForFunction(() => /Revoked/.test(document.querySelector("main table").textContent));
  await page.waitForTimeout(1100); // revocation reaches every replica within a second
  check((await asKey(secret)) == 401, "keys: once revoked, the key stops working");

  // 7. Chinese: the language follows the switch, pages stay accessible.
  await page.selectOption("#lang", "zh");
  await page.goto(COVE + "/console#/overview");
  await ready("overview");
  check((await page.textContent("nav")).includes("概览"), "zh: the navigation is in Chinese");
  check((await page.getAttribute("html", "lang")) == "zh-CN", "zh: the page says it is Chinese");
  for (const id of PAGES) {
    await page.goto(COVE + "/console#/" + id);
    await ready(id);
    await axe(id + " (中文)");
    await page.screenshot({ path: `${SHOTS}/console-${id}-zh.png`, fullPage: true });
  }

  // 7b. The team: the first setup's key session invites an owner; the
  // owner joins through the link and invites an analyst; the analyst signs
  // in with e-mail and password, sees no team or keys, and can neither
  // see a way to change a policy nor change one.
  const inviteFrom = async (p, email, role) => {
    await p.goto(COVE + "/console#/team");
    await p.waitForSelector('main[data-ready="team"]');
    await p.fill("[data-invite-email]", email);
    await p.selectOption("[data-invite-role]", role);
    await p.click("main form button[type=submit]");
    await p.waitForSelector("[data-invite-link]");
    return (await p.textContent("[data-invite-link]")).trim();
  };
  const join = async (link, password) => {
    const ctx = await browser.newContext({ locale: "en-US" });
    const p = await ctx.newPage();
    p.on("pageerror", (e) => problems.push(String(e)));
    await p.goto(link);
    await p.waitForSelector("form.signin #password");
    return { ctx, p };
  };
  const ownerLink = await inviteFrom(page, "olive@demo.example", "owner");
  check(ownerLink.startsWith(COVE + "/console#invite="), "team: an invitation is a link to pass on");
  const owner = await join(ownerLink);
  check(/as (owner|所有者)/.test(await owner.p.textContent("main")), "team: the link says which shop and role");
  await axe("invitation page", owner.p);
  await owner.p.fill("#password", "password123");
  await owner.p.click("form.signin button[type=submit]");
  await owner.p.waitForSelector("form.signin [role=alert]:not(:empty)");
  check(/common/.test(await owner.p.textContent("form.signin [role=alert]")), "team: a common password is refused, saying why");
  await owner.p.fill("#password", "green hills and a windmill");
  await owner.p.click("form.signin button[type=submit]");
  await owner.p.waitForSelector('main[data-ready]');
  check(/olive@demo\.example/.test(await owner.p.textContent("[data-who]")), "team: the owner is signed in under her own name");
  const analystLink = await inviteFrom(owner.p, "ana@demo.example", "analyst");
  await owner.ctx.close();
  const analyst = await join(analystLink);
  await analyst.p.fill("#password", "reads numbers all day long");
  await analyst.p.click("form.signin button[type=submit]");
  await analyst.p.waitForSelector('main[data-ready]');
  await analyst.p.click("header button:has-text('Sign out')");
  // She is in a second shop too: signing in asks which.
  const rivalInvite = await (await fetch(COVE + "/v1/merchants/rival/invitations", { method: "POST",
    headers: { authorization: "Bearer " + RIVAL, "content-type": "application/json" }, body: JSON.stringify({ email: "ana@demo.example", role: "support" }) })).json();
  const joined = await fetch(COVE + "/console/invitations/" + rivalInvite.link.split("#invite=")[1], { method: "POST",
    headers: { "content-type": "application/json" }, body: JSON.stringify({ password: "reads numbers all day long" }) });
  check(joined.status == 201, "team: a second shop's invitation takes the password she has");
  await analyst.p.waitForSelector("form.signin #email");
  await analyst.p.fill("#email", "ana@demo.example");
  await analyst.p.fill("#password", "reads numbers all day long");
  await analyst.p.click("form.signin button[type=submit]");
  await analyst.p.waitForFunction(() => document.querySelectorAll("#shop option").length > 0);
  const shops = (await analyst.p.locator("#shop option").allTextContents()).join();
  check(shops == "demo,rival", "team: a member of two shops is asked which (" + shops + ")");
  await analyst.p.selectOption("#shop", "demo");
  await analyst.p.click("form.signin button[type=submit]");
  await analyst.p.waitForSelector('main[data-ready]');
  const nav = await analyst.p.textContent("nav");
  check(nav.includes("Policies") && !nav.includes("Team") && !nav.includes("API keys"), "team: the analyst's navigation has no team or keys pages");
  await analyst.p.goto(COVE + "/console#/policies");
  await analyst.p.waitForSelector('main[data-ready="policies"]');
  check(await analyst.p.locator("[data-readonly]").count() == 1, "team: the analyst is told the policies page is read-only");
  check(await analyst.p.locator("section[data-slot] form:visible").count() == 0, "team: the analyst is offered no policy settings to change");
  const refused = await analyst.p.evaluate(async () => {
    const s = await (await fetch("/console/session")).json();
    const r = await fetch("/v1/merchants/demo/slots/fatigue-policy/config", { method: "PUT", headers: { "content-type": "application/json", "x-cove-csrf": s.csrf }, body: JSON.stringify({ config: {} }) });
    return [r.status, (await r.json()).code];
  });
  check(refused[0] == 403 && refused[1] == "missing_permission", "team: the API refuses the analyst's policy change (" + refused.join(" ") + ")");
  await analyst.ctx.close();
  await page.goto(COVE + "/console#/policies");
  await ready("policies");
  await page.selectOption("#audit-who", "member:olive@demo.example");
  const whos = await page.locator("[data-audit] tbody tr td:nth-child(3)").allTextContents();
  check(/invite/.test(await page.textContent("[data-audit]")) && whos.length >= 2 && whos.every((w) => w == "member:olive@demo.example"),
    "audit: filtered by who, the owner's joining and invitation show and nothing else (" + whos.join(", ") + ")");

  // The decision log: failures kept, a decision opens with its input and
  // the command that replays it.
  await page.goto(COVE + "/console#/decisions");
  await ready("decisions");
  check(/Cove keeps every failure and every fallback|Cove 会保留每一次失败和兜底/.test(await page.textContent("[data-lead]")), "decisions: the log says what it keeps (" + (await page.textContent("[data-lead]")) + ")");
  await page.fill("#decision-rate", "100");
  await page.click("form[data-log-settings] button[type=submit]");
  await page.waitForFunction(() => /Saved|已保存/.test(document.querySelector("form[data-log-settings] [role=status]").textContent));
  const invoked = await fetch(COVE + "/v1/merchants/demo/slots/fatigue-policy/invoke", { method: "POST", headers: { authorization: "Bearer " + KEY, "content-type": "application/json" },
    body: JSON.stringify({ customer_id: "demo-001", message: { channel: "email", kind: "promotional" } }) });
  check(invoked.ok, "decisions: a decision is made (" + invoked.status + ")");
  await page.goto(COVE + "/console#/decisions");
  await ready("decisions");
  await page.fill("#decision-customer", "demo-001");
  await page.click("form[data-read] button[type=submit]");
  await page.waitForSelector("[data-decisions] table button");
  await page.click("[data-decisions] table button");
  await page.waitForSelector("[data-decision] pre");
  check(/demo-001/.test(await page.textContent("[data-decision]")) && /cove plugin replay --merchant demo --slot fatigue-policy --decision/.test(await page.textContent("[data-decision]")),
    "decisions: a decision opens with its input and the command that replays it");

  // 8. Writes with the cookie need the CSRF token.
  const forged = await page.evaluate(() => fetch("/v1/merchants/demo/widget", { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" }).then((r) => r.status));
  check(forged == 403, "a write with the cookie but without the CSRF token is refused (403)");

  // 9. Another merchant's session sees none of it.
  const rival = await browser.newContext({ locale: "zh-CN" });
  const other = await rival.newPage();
  other.on("pageerror", (e) => problems.push(String(e)));
  await other.goto(COVE + "/console");
  check((await other.getAttribute("html", "lang")) == "zh-CN", "a Chinese browser gets the console in Chinese");
  await other.click("details.withkey summary");
  await other.fill("#key", RIVAL);
  await other.click("details.withkey button[type=submit]");
  await other.waitForSelector('main[data-ready="overview"]');
  await other.goto(COVE + "/console#/kb");
  await other.waitForSelector('main[data-ready="kb"]');
  check(!(await other.textContent("main")).includes("Gift cards never expire"), "another merchant's console shows none of demo's articles");
  const peek = await other.evaluate(() => fetch("/v1/merchants/demo/articles").then((r) => r.status));
  check(peek == 404, "another merchant's cookie cannot read demo's articles (404)");
  await rival.close();

  // 10. Sign-out ends the session.
  await page.click("header button:has-text('退出登录')");
  await page.waitForSelector("form.signin");
  const after = await page.evaluate(() => fetch("/v1/merchants/demo/articles").then((r) => r.status));
  check(after == 401, "after sign-out the API answers 401");

  check(!problems.some((p) => /Content Security Policy|Refused to/.test(p)), "no CSP violation");
  check(problems.length == 0, "no script errors" + (problems.length ? ": " + problems.join(" | ") : ""));
} catch (e) {
  check(false, "unexpected: " + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(failures ? `${failures} browser checks failed` : "all browser checks passed");
process.exit(failures ? 1 : 0);
