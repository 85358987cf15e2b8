// Cove widget runtime: the search dialog (combobox + listbox over the wasm
// search core), articles with "was this helpful?", the survey dialog, the
// answer queue that never loses or doubles an answer, and the returns
// dialog, which renders whatever forms the merchant's return flow asks. Loaded by the
// loader on demand; renders only inside the loader's shadow root, builds
// DOM without HTML strings (the article body is the host's sanitized HTML).
import init, { Search } from "./cove_widget.js";

const CSS = `
dialog{border:0;border-radius:12px;padding:0;width:min(560px,calc(100vw - 24px));max-height:min(640px,calc(100vh - 24px));
 box-shadow:0 10px 40px #0005;font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fff}
dialog::backdrop{background:#0006}
.hd{display:flex;align-items:center;justify-content:space-between;padding:14px 16px;border-bottom:1px solid #e5e5e5}
h2{font-size:17px;margin:0}
.x{border:0;background:none;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px;color:inherit}
.in{box-sizing:border-box;width:calc(100% - 32px);margin:12px 16px;padding:10px 12px;font:inherit;border:2px solid #ccc;border-radius:8px}
.in:focus{border-color:var(--cove-accent);outline:none}
ul{list-style:none;margin:0;padding:0 8px 8px;overflow:auto;max-height:380px}
li{padding:10px 12px;border-radius:8px;cursor:pointer}
li[aria-selected=true],li:hover{background:#eef4f1;outline:2px solid var(--cove-accent)}
.st{margin:0 16px 12px;color:#555;font-size:14px}
.art{padding:12px 16px 16px;overflow:auto;max-height:480px}
.art img{max-width:100%}
.row{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin-top:12px}
button.b{font:inherit;padding:8px 14px;border-radius:8px;border:2px solid var(--cove-accent);background:#fff;color:#1b1b1b;cursor:pointer}
button.b[aria-pressed=true],button.p{background:var(--cove-accent);color:var(--cove-ink)}
form{padding:12px 16px 16px}
fieldset{border:0;margin:0 0 14px;padding:0}
legend{font-weight:600;margin-bottom:8px}
.nps{display:flex;flex-wrap:wrap;gap:4px}
.nps label,.ch label{display:inline-flex;align-items:center;gap:6px;cursor:pointer}
.nps label{min-width:34px;justify-content:center;border:1px solid #bbb;border-radius:6px;padding:6px 0}
.nps input{position:absolute;opacity:0}
.nps label:has(input:checked){background:var(--cove-accent);color:var(--cove-ink)}
.nps label:has(input:focus-visible){outline:3px solid #111}
.ch{display:grid;gap:6px}
textarea{box-sizing:border-box;width:100%;min-height:70px;font:inherit;padding:8px;border:1px solid #bbb;border-radius:8px}
.f{display:grid;gap:4px;margin:0 0 14px}
.f input:not([type=radio]){box-sizing:border-box;width:100%;font:inherit;padding:8px;border:1px solid #bbb;border-radius:8px}
[aria-invalid=true]{border-color:#b00020!important}
.in,textarea,.f input{font-size:16px!important}
.err{color:#b00020;margin:4px 0 0}
.lines{margin:8px 0;padding:0 0 0 18px}
button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #111;outline-offset:2px}
`;

// A DOM element: properties set as properties (text stays text), `on*`
// as listeners, `aria-*`/`role`/`data-*` as attributes.
const h = (tag, props, ...kids) => {
  // The document's own method: a page element named `createElement`
  // cannot stand in for it.
  const e = Reflect.apply(Document.prototype.createElement, document, [tag]);
  for (const [k, v] of Object.entries(props || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (/^(aria-|role|data-|for$)/.test(k)) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...kids.filter((x) => x != null));
  return e;
};

export async function start(ctx) {
  const { root, cfg, api, get, set, listen, doc } = ctx;
  // The loader's own JSON writer (see loader.js): page patches cannot change it.
  const toJson = ctx.json;
  const T = cfg.texts;
  await init({ module_or_path: ctx.base + "/widget/" + ctx.V + "/cove_widget_bg.wasm" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  // The public API takes no cookies: a signed-in console on the same site
  // must not make the visitor's requests look like the merchant's.
  const post = (path, body) =>
    fetch(api + path, { method: "POST", body: toJson(body), headers: { "content-type": "text/plain" }, keepalive: true, credentials: "omit" });

  // A modal dialog; focus goes back where it was when it closes.
  const modal = (label, ...content) => {
    const back = root.activeElement || doc("activeElement");
    const id = "t" + Math.random().toString(36).slice(2);
    const d = h("dialog", { "aria-labelledby": id },
      // Not a <header>: inside a dialog it would be a second banner landmark.
      h("div", { className: "hd" }, h("h2", { id, textContent: label }),
        h("button", { className: "x", type: "button", "aria-label": T.close, textContent: "×", onclick: () => d.close() })),
      ...content);
    d.addEventListener("close", () => { d.remove(); back && back.focus && back.focus(); });
    root.append(d);
    d.showModal();
    return d;
  };

  // ---- knowledge search ----
  // The first results come from the host (same core, one small request);
  // once they are on screen the index's meta shard downloads, and from then
  // on every keystroke is answered in the page, fetching only the shards
  // (postings of its words, titles of its results) it has not seen yet. A
  // shard that fails (an index replaced meanwhile) sends search back to the
  // host.
  let index, ready, broken;
  const shards = {};
  const shard = (name) => fetch(ctx.base + cfg.index + "/" + name)
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error("index: HTTP " + r.status))))
    .then((b) => new Uint8Array(b));
  const loadIndex = () =>
    (index ||= shard("meta").then((b) => (ready = new Search(b))).catch((e) => { index = null; throw e; }));
  // `names`: what run() found missing already (each missing() ranks once).
  const local = async (q, names) => {
    for (let i = 0; i < 3 && names.length; i++, names = ready.missing(q, Date.now(), 8))
      await Promise.all(names.map((n) => (shards[n] ||= shard(n).then((b) => ready.add(n, b)))))
        .catch((e) => { broken = 1; throw e; });
    return ready.query(q, Date.now(), 8);
  };
  const remote = async (q) => {
    const r = await fetch(api + "/search?locale=" + encodeURIComponent(cfg.locale) + "&q=" + encodeURIComponent(q));
    if (!r.ok) throw new Error("search: HTTP " + r.status);
    return (await r.json()).hits.flatMap((x) => [x.id, x.title]);
  };

  const open = (from) => {
    const input = h("input", {
      className: "in", type: "search", role: "combobox", "aria-expanded": "false", "aria-controls": "cove-lb",
      "aria-autocomplete": "list", "aria-label": T.placeholder, placeholder: T.placeholder, autocomplete: "off",
    });
    const list = h("ul", { id: "cove-lb", role: "listbox", "aria-label": T.title });
    const status = h("p", { className: "st", role: "status", "aria-live": "polite" });
    const art = h("div", { className: "art", hidden: true });
    const d = modal(T.title, input, list, status, art);
    let hits = [], active = -1;
    // A search that finds nothing, once the visitor has stopped typing, is
    // counted for the merchant (the words only), once per dialog.
    const missed = new Set();
    let missTimer;
    const miss = (q) => {
      clearTimeout(missTimer);
      if (!q || missed.has(q.toLowerCase())) return;
      missTimer = setTimeout(() => {
        if (input.value.trim() != q || hits.length) return;
        missed.add(q.toLowerCase());
        post("/missed-searches", { locale: cfg.locale, query: q }).catch(() => {});
      }, 1500);
    };
    const select = (i) => {
      active = i;
      [...list.children].forEach((li, n) => li.setAttribute("aria-selected", n == i));
      if (i >= 0) { input.setAttribute("aria-activedescendant", "cove-o" + i); list.children[i].scrollIntoView({ block: "nearest" }); }
      else input.removeAttribute("aria-activedescendant");
    };
    let inflight, again;
    const run = async () => {
      const q = input.value;
      if (!q.trim()) return render([]);
      if (ready && !broken) {
        // Shards are fetched for what the visitor settles on, not for
        // every keystroke on the way.
        const names = ready.missing(q, Date.now(), 8);
        if (names.length) {
          await new Promise((r) => setTimeout(r, 200));
          if (input.value != q) return;
        }
        try {
          const flat = await local(q, names);
          if (input.value == q) render(flat);
          return;
        } catch (e) { console.warn("[cove]", e); } // then ask the host
      }
      // One request at a time; the latest text is sent when it returns.
      if (inflight) return void (again = 1);
      inflight = 1;
      // Once the index is here, it answers what is in the box.
      const idx = () => broken || loadIndex().then(run).catch((e) => console.warn("[cove]", e));
      try {
        const flat = await remote(q);
        if (!ready || broken) render(flat); // even if more was typed since: better than nothing
        // Results are on screen: now the index may take the bandwidth.
        if (flat.length) idx();
      } catch (e) {
        idx(); // the host's search failed: answer from the index instead
        throw e;
      } finally {
        inflight = 0;
      }
      if (again) { again = 0; return run(); }
    };
    const render = (flat) => {
      hits = [];
      for (let i = 0; i < flat.length; i += 2) hits.push({ id: flat[i], title: flat[i + 1] });
      list.replaceChildren(...hits.map((x, i) =>
        h("li", { id: "cove-o" + i, role: "option", "aria-selected": "false", "data-id": x.id, textContent: x.title, onclick: () => show(x) })));
      input.setAttribute("aria-expanded", hits.length > 0);
      status.textContent = input.value.trim() && !hits.length ? T.empty : "";
      miss(hits.length ? "" : input.value.trim());
      select(hits.length ? 0 : -1);
    };
    const show = async (x) => {
      const r = await fetch(api + "/articles/" + encodeURIComponent(x.id));
      if (!r.ok) return;
      const a = await r.json();
      const votes = get("votes") || {};
      const vote = (yes) => async () => {
        const res = await post("/votes", { article: a.id, visitor: ctx.vid, helpful: yes });
        if (!res.ok) return;
        votes[a.id] = yes;
        set("votes", votes);
        yesB.setAttribute("aria-pressed", yes);
        noB.setAttribute("aria-pressed", !yes);
        thanks.textContent = T.thanks;
      };
      const yesB = h("button", { className: "b", type: "button", textContent: T.yes, "aria-pressed": votes[a.id] === true, onclick: vote(true) });
      const noB = h("button", { className: "b", type: "button", textContent: T.no, "aria-pressed": votes[a.id] === false, onclick: vote(false) });
      const thanks = h("span", { role: "status" });
      const body = h("div");
      body.innerHTML = a.html; // sanitized by the host: no scripts, handlers or unsafe URLs
      art.replaceChildren(
        h("button", { className: "b", type: "button", textContent: "←", "aria-label": T.back, onclick: () => { art.hidden = true; list.hidden = input.hidden = false; input.focus(); } }),
        h("h3", { textContent: a.title }), body,
        h("div", { className: "row" }, h("span", { textContent: T.helpful }), yesB, noB, thanks));
      list.hidden = input.hidden = true;
      art.hidden = false;
      art.querySelector("h3").tabIndex = -1;
      art.querySelector("h3").focus();
    };
    input.addEventListener("input", () => run().catch((e) => console.warn("[cove]", e)));
    input.addEventListener("keydown", (e) => {
      if (e.key == "ArrowDown" && hits.length) { select((active + 1) % hits.length); e.preventDefault(); }
      else if (e.key == "ArrowUp" && hits.length) { select((active - 1 + hits.length) % hits.length); e.preventDefault(); }
      else if (e.key == "Enter" && active >= 0) { show(hits[active]); e.preventDefault(); }
    });
    input.focus();
    // Visitors who search for a while get the index even without results.
    setTimeout(() => loadIndex().then(run).catch(() => {}), 3000);
    return d;
  };

  // ---- answer queue: persisted, retried with backoff, sent on page hide ----
  let busy, timer, tries = 0;
  const queue = () => get("queue") || [];
  const flush = async () => {
    const batch = queue().slice(0, 50);
    if (!batch.length || busy) return;
    busy = 1;
    clearTimeout(timer);
    try {
      if (!navigator.onLine) throw 0;
      const r = await post("/answers", { answers: batch });
      // Server trouble, rate limit or a not-yet-allowed origin: try again later.
      if (r.status >= 500 || r.status == 429 || r.status == 403) throw r.status;
      // The whole batch refused: they stay stored for the next page, and
      // this one stops asking (never a loop, never a lost answer).
      if (!r.ok) return;
      // Stored, duplicate, or never valid: either way done with these.
      const sent = new Set(batch.map((a) => a.id));
      set("queue", queue().filter((a) => !sent.has(a.id)));
      tries = 0;
      busy = 0;
      flush();
    } catch (e) {
      busy = 0;
      timer = setTimeout(flush, Math.min(6e4, 1e3 * 2 ** tries++) * (0.5 + Math.random()));
    }
  };
  const beacon = () => {
    const q = queue();
    if (q.length) navigator.sendBeacon(api + "/answers", new Blob([toJson({ answers: q.slice(0, 50) })], { type: "text/plain" }));
  };
  listen(window, "online", flush);
  listen(window, "pagehide", beacon);
  listen(document, "visibilitychange", () => doc("hidden") && beacon());
  flush();

  // ---- exit survey ----
  const survey = (s) => {
    // Never over the visitor's search or another survey, nor once another
    // tab of the visitor's answered it or showed a survey meanwhile.
    if (root.querySelector("dialog[open]")) return;
    if ((get("answered") || {})[s.id] || Date.now() - (get("shown") || 0) < s.cooldown_days * 864e5) return;
    set("shown", Date.now());
    const fields = s.questions.map((q) => {
      const legend = h("legend", { textContent: q.prompt });
      const radio = (value, label) =>
        h("label", null, h("input", { type: "radio", name: q.id, value, required: q.required }), label);
      if (q.kind == "nps")
        return h("fieldset", { "data-q": q.id }, legend,
          h("div", { className: "nps" }, ...Array.from({ length: 11 }, (_, n) => radio(n, String(n)))));
      if (q.kind == "choice")
        return h("fieldset", { "data-q": q.id }, legend, h("div", { className: "ch" }, ...q.options.map((o) => radio(o.id, o.label))));
      const id = "cove-" + q.id;
      return h("fieldset", { "data-q": q.id }, h("label", { for: id, textContent: q.prompt }),
        h("textarea", { id, name: q.id, maxLength: 2000, required: q.required }));
    });
    const form = h("form", {
      onsubmit: (e) => {
        e.preventDefault();
        const answers = {};
        for (const q of s.questions) {
          const v = new FormData(form).get(q.id);
          if (v != null && v !== "") answers[q.id] = q.kind == "nps" ? +v : v;
        }
        if (!Object.keys(answers).length) return;
        const id = (crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36)).replace(/[^\w-]/g, "");
        set("queue", [...queue(), { id, survey: s.id, visitor: ctx.vid, locale: cfg.locale, page: location.pathname, answers }]);
        set("answered", { ...(get("answered") || {}), [s.id]: 1 });
        form.replaceChildren(h("p", { role: "status", textContent: T.thanks }));
        setTimeout(() => d.close(), 1500);
        flush();
      },
    }, ...fields, h("div", { className: "row" }, h("button", { className: "b p", type: "submit", textContent: T.send })));
    const d = modal(s.title, form);
    const first = form.querySelector("input,textarea");
    first && first.focus();
  };

  // ---- returns: the merchant's flow, one form at a time ----
  // The forms come from the flow plugin (typed fields, labels per
  // locale); nothing here knows what a return asks, so a new flow needs
  // no change here. The host checks every answer again.
  const text = (l) => {
    const lang = cfg.locale.split("-")[0];
    const hit = l.find(([k]) => k == cfg.locale) || l.find(([k]) => k.split("-")[0] == lang) || l[0];
    return hit ? hit[1] : "";
  };
  const money = (m) => {
    const digits = /^(JPY|KRW|VND|CLP|ISK)$/.test(m.currency) ? 0 : /^(KWD|BHD|OMR|JOD|TND)$/.test(m.currency) ? 3 : 2;
    try {
      return new Intl.NumberFormat(cfg.locale, { style: "currency", currency: m.currency, minimumFractionDigits: digits }).format(m["amount-minor"] / 10 ** digits);
    } catch (e) {
      return (m["amount-minor"] / 10 ** digits).toFixed(digits) + " " + m.currency;
    }
  };
  const returns = () => {
    if (root.querySelector("dialog[open]")) return;
    const box = h("div", { className: "art" });
    const d = modal(T.returns, box);
    const alert = h("p", { className: "err", role: "alert" });
    const call = async (method, path, body, token) => {
      const r = await fetch(api + "/returns" + path, {
        method, credentials: "omit",
        headers: token ? { "x-return-token": token } : { "content-type": "text/plain" },
        body: body && toJson(body),
      });
      const json = await r.json().catch(() => ({}));
      return { ok: r.ok, status: r.status, json };
    };
    let session = get("return");
    const focusFirst = () => { const f = box.querySelector("input,textarea,button.p"); f && f.focus(); };
    const field = (f, n) => {
      const id = "cove-r" + n, label = text(f.label), k = f.kind;
      const err = h("p", { className: "err", id: id + "-e" });
      let input;
      if (k.choice) {
        const radios = k.choice.map((c) =>
          h("label", null, h("input", { type: "radio", name: f.name, value: c.value, required: f.required }), text(c.label)));
        return h("fieldset", { "data-field": f.name, "aria-describedby": id + "-e" }, h("legend", { textContent: label }), h("div", { className: "ch" }, ...radios), err);
      }
      if (k.number) input = h("input", { type: "number", min: k.number.min, max: k.number.max, step: 1, inputMode: "numeric" });
      else if (k.date) input = h("input", { type: "date", min: k.date.earliest || "", max: k.date.latest || "" });
      else if (k.text != null) input = h("textarea", { maxLength: k.text });
      else input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp" });
      Object.assign(input, { id, name: f.name, required: f.required });
      input.setAttribute("aria-describedby", id + "-e");
      return h("div", { className: "f", "data-field": f.name }, h("label", { for: id, textContent: label }), input, err);
    };
    const refuse = (json) => {
      const where = json.field && box.querySelector('[data-field="' + json.field + '"]');
      if (where) {
        where.querySelector(".err").textContent = json.message;
        where.querySelectorAll("input,textarea").forEach((i) => i.setAttribute("aria-invalid", "true"));
        (where.querySelector("input,textarea") || where).focus();
      } else alert.textContent = json.message || "HTTP";
    };
    const show = (view) => {
      alert.textContent = "";
      const step = view.step || {};
      if (step.form) {
        const form = h("form", {
          onsubmit: async (e) => {
            e.preventDefault();
            const answers = {};
            for (const f of step.form.fields) {
              let v = new FormData(form).get(f.name);
              // A photo goes up first; the answer is its id.
              if (v instanceof File) {
                if (!v.size) continue;
                const up = await fetch(api + "/returns/" + session.id + "/photos", {
                  method: "POST", credentials: "omit", body: v,
                  headers: { "x-return-token": session.token, "content-type": v.type || "application/octet-stream" },
                });
                const json = await up.json().catch(() => ({}));
                if (!up.ok) return refuse({ ...json, field: f.name });
                v = json.id;
              }
              if (v != null && v !== "") answers[f.name] = v;
            }
            const r = await call("POST", "/" + session.id + "/step", { token: session.token, answers });
            r.ok ? show(r.json) : refuse(r.json);
          },
        }, h("h3", { textContent: text(step.form.title) }), ...step.form.fields.map(field), alert,
          h("div", { className: "row" }, h("button", { className: "b p", type: "submit", textContent: T.next })));
        box.replaceChildren(form);
        return focusFirst();
      }
      const o = step.outcome || {};
      // A refusal or a marketplace hand-off is final as shown; a refund or
      // a person's review is registered when the customer confirms it.
      const final = !!(o.rejected || o.marketplace);
      const done = view.status != "ready";
      const parts = [];
      if (o.approved) {
        const a = o.approved;
        parts.push(h("p", { textContent: a.note }),
          h("ul", { className: "lines" }, ...a.lines.map((l) => h("li", { textContent: l.label + ": " + money(l.amount) }))),
          h("p", null, h("strong", { textContent: money(a.refund) })));
      } else if (o.rejected) parts.push(h("p", { textContent: o.rejected }));
      else if (o.marketplace) parts.push(h("p", { textContent: o.marketplace.instructions }));
      else parts.push(h("p", { textContent: T.person }));
      const status = h("p", { role: "status", textContent: done && !final ? T.registered : "" });
      const confirm = h("button", {
        className: "b p", type: "button", textContent: T.confirm, hidden: done,
        onclick: async () => {
          const r = await call("POST", "/" + session.id + "/submit", { token: session.token });
          if (!r.ok) return refuse(r.json);
          confirm.hidden = true;
          status.textContent = T.registered;
          // The button had focus; it goes to what replaced it, not <body>.
          status.tabIndex = -1;
          status.focus();
          set("return", null);
        },
      });
      if (final) set("return", null);
      box.replaceChildren(...parts, alert, h("div", { className: "row" }, confirm), status);
      const first = done ? box.querySelector("p") : confirm;
      first.tabIndex = -1;
      first.focus();
    };
    const begin = () => {
      const order = h("input", { id: "cove-ro", name: "order", required: true, autocomplete: "off" });
      const email = h("input", { id: "cove-re", name: "email", type: "email", required: true, autocomplete: "email" });
      const form = h("form", {
        onsubmit: async (e) => {
          e.preventDefault();
          const r = await call("POST", "", { order: order.value, email: email.value, locale: cfg.locale });
          if (!r.ok) return void (alert.textContent = r.status == 404 ? T.nomatch : r.json.message || "HTTP " + r.status);
          session = { id: r.json.id, token: r.json.token };
          set("return", session);
          show(r.json);
        },
      }, h("div", { className: "f" }, h("label", { for: "cove-ro", textContent: T.order }), order),
        h("div", { className: "f" }, h("label", { for: "cove-re", textContent: T.email }), email), alert,
        h("div", { className: "row" }, h("button", { className: "b p", type: "submit", textContent: T.next })));
      box.replaceChildren(form);
      order.focus();
    };
    // A return left half-way on this browser picks up where it stopped.
    if (session) call("GET", "/" + session.id, null, session.token).then((r) => (r.ok && ["open", "ready"].includes(r.json.status) ? show(r.json) : (set("return", null), begin())));
    else begin();
    return d;
  };

  return { open, survey, returns };
}
