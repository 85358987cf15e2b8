// What every console page uses: building elements, the two languages,
// calling the API with the session, charts with a table beside them, and
// plain-words errors.

const dict = { en: {}, zh: {} };
export let lang = "en";

// The language: what the visitor chose before, else the browser's.
export const initLang = () => {
  const saved = localStorage.getItem("cove.lang");
  const zh = (navigator.languages || [navigator.language]).some((l) => /^zh\b/i.test(l));
  lang = saved || (zh ? "zh" : "en");
  if (!(lang in dict)) lang = "en";
  document.documentElement.lang = lang == "zh" ? "zh-CN" : "en";
};
export const setLang = (l) => {
  localStorage.setItem("cove.lang", l);
  initLang();
};
export const addTexts = (texts) => {
  for (const l of Object.keys(dict)) Object.assign(dict[l], texts[l] || {});
};
// The text for `key`, with `{name}` filled from `vars`.
export const t = (key, vars = {}) =>
  (dict[lang][key] ?? dict.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

// h("button", { type: "button", onclick }, "text", child…)
export const h = (tag, props, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && !k.includes("-") && k != "list") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
};

// ---- the session and the API ----
export const session = { merchant: "", csrf: "", scopes: [] };
// Whether the session has any of `scopes`.
export const can = (scopes) => scopes.some((s) => (session.scopes || []).includes(s));
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : "HTTP " + status);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}
let onSignedOut = () => {};
export const whenSignedOut = (f) => (onSignedOut = f);

export const api = async (path, { method = "GET", body } = {}) => {
  const url = path.startsWith("/") ? path : "/v1/merchants/" + encodeURIComponent(session.merchant) + "/" + path;
  const headers = {};
  if (method != "GET") headers["x-cove-csrf"] = session.csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(url, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status == 204) return null;
  const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : await r.text();
  if (r.status == 401 && session.merchant) onSignedOut();
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
};

// An alert that reads out what went wrong, in the API's plain words.
export const failure = (e) => h("p", { className: "error", role: "alert" }, t("error") + " " + (e && e.message ? e.message : String(e)));

// ---- formatting ----
export const num = (n) => (n == null ? "—" : new Intl.NumberFormat(lang == "zh" ? "zh-CN" : "en").format(n));
export const pct = (x) => (x == null || !isFinite(x) ? "—" : Math.round(x * 100) + "%");
export const day = (ms) => new Date(ms).toLocaleDateString(lang == "zh" ? "zh-CN" : "en", { month: "short", day: "numeric", timeZone: "UTC" });
export const when = (ms) => (ms == null ? "—" : new Date(ms).toLocaleString(lang == "zh" ? "zh-CN" : "en"));

// A table: columns [{ label, value(row) → text or node }].
export const table = (caption, columns, rows) =>
  h("table", null,
    h("caption", null, caption),
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", null, rows.length ? rows.map((r) => h("tr", null, columns.map((c) => h("td", null, c.value(r)))))
      : h("tr", null, h("td", { colSpan: columns.length, className: "empty" }, t("none")))));

// ---- charts: Chart.js draws; a table beside it says the same in words ----
const base = new URL(".", import.meta.url).href;
let chartLib;
const loadCharts = () =>
  (chartLib ||= document.querySelector("script[data-charts=true]")
    ? new Promise((ok, fail) => document.head.append(h("script", { src: base + "chart.js", onload: () => ok(window.Chart), onerror: fail })))
    : Promise.reject(new Error("charts not installed")));
// Start loading the charting library with the page, not at the first chart.
if (document.querySelector("script[data-charts=true]")) loadCharts().catch(() => {});

// WCAG relative luminance of the colour `hex` (#rrggbb).
const luminance = (hex) => {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
// WCAG contrast ratio of two colours (1 to 21).
export const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
// Black or white, whichever reads better on the colour `hex` (#rrggbb).
export const inkOn = (hex) => (contrast(hex, "#000000") > contrast(hex, "#ffffff") ? "#000000" : "#ffffff");
export const COLORS = ["#0b6e4f", "#c2410c", "#6d28d9", "#0369a1", "#a16207", "#be123c"];

// chart(title, { type, labels, series: [{ label, data }], stacked, summary })
export const chart = (title, spec) => {
  const canvas = h("canvas", { role: "img", "aria-label": title + ". " + spec.summary });
  const data = h("details", null, h("summary", null, t("chart.data")),
    table(title, [{ label: "", value: (r) => r.label }, ...spec.series.filter((s) => s.label).map((s) => ({ label: s.label, value: (r) => (spec.format || num)(s.data[r.i]) }))],
      spec.labels.map((label, i) => ({ label, i }))));
  const fig = h("figure", { className: "chart" }, h("figcaption", null, title), h("div", { className: "canvas" }, canvas), h("p", { className: "summary" }, spec.summary), data);
  loadCharts().then((Chart) => {
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: s.colors || s.color || COLORS[i % COLORS.length], borderColor: s.color || COLORS[i % COLORS.length], tension: 0.3, ...(s.options || {}) })) },
      options: {
        animation: false, maintainAspectRatio: false, indexAxis: spec.horizontal ? "y" : "x",
        // Unlabelled series (an interval's band) stay out of the legend.
        plugins: { legend: { display: spec.series.filter((s) => s.label).length > 1, labels: { filter: (item) => !!item.text } } },
        scales: { [spec.horizontal ? "y" : "x"]: { stacked: !!spec.stacked }, [spec.horizontal ? "x" : "y"]: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 }, ...(spec.y || {}) } },
      },
    });
    fig.dataset.drawn = "true";
  }).catch(() => { fig.dataset.drawn = "none"; data.open = true; });
  return fig;
};

// A labelled field: field(label, input, hint?)
let fieldId = 0;
export const field = (label, input, hint) => {
  const id = input.id || (input.id = "f" + ++fieldId);
  const hintId = hint ? id + "-hint" : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { className: "field" }, h("label", { htmlFor: id }, label), input, hint ? h("p", { id: hintId, className: "hint" }, hint) : null);
};

// Run `save`, say "Saved" or what went wrong in a live region next to the button.
export const saver = (label, save) => {
  const status = h("span", { role: "status", className: "status" });
  const button = h("button", { type: "submit", className: "primary" }, label);
  const run = async (e) => {
    e && e.preventDefault();
    status.textContent = "";
    status.className = "status";
    button.disabled = true;
    try {
      await save();
      status.textContent = t("saved");
    } catch (err) {
      status.className = "status error";
      status.textContent = t("error") + " " + err.message;
    } finally {
      button.disabled = false;
    }
  };
  return { button, status, run };
};

addTexts({
  en: { error: "Something went wrong:", none: "Nothing yet.", saved: "Saved.", "chart.data": "Show the numbers" },
  zh: { error: "出错了：", none: "暂无数据。", saved: "已保存。", "chart.data": "查看数据" },
});
