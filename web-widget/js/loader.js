// Cove widget loader: the one script a merchant pastes,
//   <script src="https://HOST/widget.js" data-merchant="ID" async></script>
// It stays tiny: it fetches the merchant's public config when the page is
// idle, shows the launcher, arms the survey triggers, and loads the runtime
// (wasm search + UI, `ui.js`) only when the visitor needs it. Everything
// lives in one shadow root; nothing it does can throw into the page.
(() => {
  // The page is read through the prototypes' own getters and methods: an
  // element named `currentScript`, `body` or `createElement` (HTML a
  // review or a theme can hold) shadows the document's.
  const doc = (name) => Reflect.apply(Object.getOwnPropertyDescriptor(Document.prototype, name).get, document, []);
  const make = (tag) => Reflect.apply(Document.prototype.createElement, document, [tag]);
  const listen = (target, type, f, o) => Reflect.apply(EventTarget.prototype.addEventListener, target, [type, f, o]);
  const unlisten = (target, type, f) => Reflect.apply(EventTarget.prototype.removeEventListener, target, [type, f]);
  const me = doc("currentScript");
  const src = me instanceof HTMLScriptElement && me.src ? new URL(me.src) : null;
  // One widget per page, even if the tag was pasted twice (a symbol: no
  // element id can stand in for it).
  const once = Symbol.for("cove.widget");
  if (!src || !/\/widget\.js$/.test(src.pathname) || window[once]) return;
  window[once] = 1;
  const base = src.origin;
  const merchant = me.dataset.merchant || "";
  const V = "__COVE_V__";
  const warn = (e) => console.warn("[cove]", e);
  // JSON written here, not by the page's `JSON` or a patched
  // `Array.prototype.toJSON` (Prototype.js): what is sent is what was meant.
  const str = (s) => '"' + String(s).replace(/[\\"\u0000-\u001f\u2028\u2029]/g, (c) => "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4)) + '"';
  const json = (v) => {
    if (v === null || v === undefined) return "null";
    if (typeof v == "string") return str(v);
    if (typeof v == "number") return isFinite(v) ? String(v) : "null";
    if (typeof v == "boolean") return v ? "true" : "false";
    let out = "";
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) out += (i ? "," : "") + json(v[i]);
      return "[" + out + "]";
    }
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) if (v[keys[i]] !== undefined) out += (out ? "," : "") + str(keys[i]) + ":" + json(v[keys[i]]);
    return "{" + out + "}";
  };
  const parse = JSON.parse;
  const key = (k) => "cove:" + merchant + ":" + k;
  // Browser storage, or memory where storage is blocked (then answers
  // still survive retries for as long as the page is open).
  const mem = {};
  const get = (k) => {
    try { return parse(localStorage.getItem(key(k))); } catch (e) { return mem[k] ?? null; }
  };
  const set = (k, v) => {
    try { localStorage.setItem(key(k), json(v)); } catch (e) { mem[k] = v; }
  };
  let vid = get("vid");
  if (!vid) set("vid", (vid = (crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36)).replace(/[^\w-]/g, "")));
  // Experiments: `Cove.variant(key)` resolves to this visitor's variation's
  // value (null when not in the experiment). A returning visitor's
  // variations come from storage at once (no flicker) and refresh quietly
  // for next time; each exposure is sent once. `window.CoveAttributes`
  // adds targeting attributes; the visitor id is `id`.
  const api = base + "/public/v1/" + encodeURIComponent(merchant);
  const post = (path, body) => fetch(api + path, { method: "POST", headers: { "content-type": "application/json" }, body: json(body), keepalive: true })
    .then((r) => (r.ok ? r.json() : Promise.reject(path + ": HTTP " + r.status)));
  const attributes = () => Object.assign({}, window.CoveAttributes, { id: vid });
  let fresh;
  const assigned = () => (fresh ||= post("/experiments/assign", { attributes: attributes() }).then((a) => (set("variants", a.assignments), a.assignments)));
  const expose = (k, a) => {
    const mark = (v) => set("exposed", Object.assign(get("exposed") || {}, { [k]: v }));
    const seen = get("exposed") || {};
    if (!a || !a.in_experiment || seen[k] === a.variation) return;
    // Marked before it is sent: a reload while the request is in flight
    // must not send it twice. A refusal unmarks it for the next page.
    mark(a.variation);
    post("/experiments/exposures", { attributes: attributes(), keys: [k] }).catch((e) => (mark(null), warn(e)));
  };
  const Cove = (window.Cove = window.Cove || {});
  Cove.variant = (k) => {
    const kept = (get("variants") || {})[k];
    const found = kept ? Promise.resolve(kept) : assigned().then((all) => all[k]);
    if (kept) assigned().catch(warn);
    return found.then((a) => (expose(k, a), a ? a.value : null)).catch((e) => (warn(e), null));
  };
  dispatchEvent(new Event("cove:ready"));
  // An element of its own (no `div:empty` or id rule of the page matches
  // it), styled inline with !important (which beats every page rule). The
  // shadow root stays open: a script of the page runs in the same realm
  // anyway, and assistive and test tools read open roots.
  const host = make("cove-widget");
  host.setAttribute("data-cove-widget", "");
  host.style.cssText = "all:initial!important;display:block!important;visibility:visible!important;opacity:1!important;position:static!important";
  const root = host.attachShadow({ mode: "open" });
  const ctx = { base, api, V, vid, get, set, root, host, json, make, listen, doc };
  let runtime;
  const load = () =>
    (runtime ||= import(base + "/widget/" + V + "/ui.js")
      .then((m) => m.start(ctx))
      .catch((e) => { runtime = null; warn(e); }));

  const hash = (s) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return (h >>> 0) / 4294967296;
  };
  // Whether path `s` matches glob `p` (`*`: any run of characters), with
  // no regular expression: at most |p|·|s| steps, whatever the pattern.
  const glob = (p, s) => {
    let i = 0, j = 0, star = -1, mark = 0;
    while (j < s.length) {
      if (i < p.length && p[i] == "*") { star = i++; mark = j; }
      else if (i < p.length && p[i] == s[j]) { i++; j++; }
      else if (star >= 0) { i = star + 1; j = ++mark; }
      else return false;
    }
    while (p[i] == "*") i++;
    return i == p.length;
  };
  const coarse = matchMedia("(pointer: coarse)").matches;

  // The first survey this visitor may see here now, if any.
  const pick = (surveys) => {
    const done = get("answered") || {};
    const since = Date.now() - (get("shown") || 0);
    return surveys.find((s) =>
      !done[s.id] && since > s.cooldown_days * 864e5 && hash(vid + s.id) < s.sample_rate &&
      s.paths.some((p) => glob(p, location.pathname)));
  };

  const arm = (s) => {
    const t = s.trigger, offs = [];
    const on = (target, type, f) => {
      listen(target, type, f, { passive: true });
      offs.push(() => unlisten(target, type, f));
    };
    let fired;
    const fire = () => {
      if (fired) return;
      fired = 1;
      offs.forEach((f) => f());
      load().then((r) => r && r.survey(s));
    };
    if (t.exit) {
      // Desktop: the pointer leaves through the top of the viewport.
      on(document, "mouseout", (e) => { if (!e.relatedTarget && e.clientY <= 0) fire(); });
      if (coarse) {
        // Mobile: a fast scroll up, or back after the page was hidden a while.
        let y = scrollY, at = performance.now(), hiddenAt = 0;
        on(window, "scroll", () => {
          const now = performance.now();
          if ((y - scrollY) / (now - at) > 2) fire();
          y = scrollY;
          at = now;
        });
        on(document, "visibilitychange", () => {
          if (doc("hidden")) hiddenAt = Date.now();
          else if (hiddenAt && Date.now() - hiddenAt > 15e3) fire();
        });
      }
    }
    if (t.seconds != null) {
      const id = setTimeout(fire, t.seconds * 1e3);
      offs.push(() => clearTimeout(id));
    }
    if (t.scroll != null)
      on(window, "scroll", () => {
        if ((scrollY + innerHeight) * 100 >= doc("documentElement").scrollHeight * t.scroll) fire();
      });
  };

  const boot = () =>
    fetch(ctx.api + "/config?locale=" + encodeURIComponent(doc("documentElement").lang || navigator.language || ""))
      .then((r) => (r.ok ? r.json() : Promise.reject("config: HTTP " + r.status)))
      .then((cfg) => {
        ctx.cfg = cfg;
        host.style.setProperty("--cove-accent", cfg.accent);
        host.style.setProperty("--cove-ink", cfg.accent_ink);
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(":host{all:initial}.l{position:fixed;bottom:20px;" + (cfg.position == "left" ? "left" : "right") +
          ":20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:var(--cove-accent);color:var(--cove-ink);" +
          "font:600 15px/1 system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 10px #0004}.l:focus-visible{outline:3px solid #111;outline-offset:2px}");
        root.adoptedStyleSheets = [sheet];
        if (cfg.index) {
          const b = make("button");
          b.className = "l";
          b.type = "button";
          b.textContent = cfg.texts.launcher;
          b.setAttribute("aria-haspopup", "dialog");
          b.onclick = () => load().then((r) => r && r.open(b));
          b.onpointerenter = b.onfocus = load;
          root.append(b);
        }
        (doc("body") || doc("documentElement")).append(host);
        // A link to #cove-returns anywhere on the page opens the returns flow.
        const returns = () => location.hash == "#cove-returns" && load().then((r) => r && r.returns());
        listen(window, "hashchange", returns);
        returns();
        const s = pick(cfg.surveys);
        if (s) arm(s);
        if ((get("queue") || []).length) load();
      })
      .catch(warn);
  (window.requestIdleCallback || setTimeout)(() => boot(), { timeout: 2e3 });
})();
