// Customer value: start an RFM run (or schedule one daily), then read it —
// segment sizes, the recency × frequency grid as a heat map, who moved
// between segments since the previous run, the spread of lifetime value,
// micro-segments with their members, and one customer's predictions.
import { h, t, api, num, pct, when, table, field, saver, chart, inkOn, session, COLORS } from "./ui.js";

const SEGMENTS = ["champions", "loyal", "potential-loyalist", "new", "promising", "needs-attention", "about-to-sleep", "at-risk", "cannot-lose-them", "hibernating", "lost"];
const TIERS = ["active", "engaged", "potential", "at-risk", "silent"];
const money = (x) => (x == null ? "—" : num(Math.round(x * 100) / 100));
const seg = (s) => t("rfm.seg." + s) == "rfm.seg." + s ? s : t("rfm.seg." + s);
const tier = (s) => t("rfm.tier." + s) == "rfm.tier." + s ? s : t("rfm.tier." + s);

// White to the console's green, by share of the largest cell.
const heat = (share) => {
  const to = [0x0b, 0x6e, 0x4f];
  return "#" + to.map((c) => Math.round(255 + (c - 255) * share).toString(16).padStart(2, "0")).join("");
};
// A table whose cells are coloured by their count: rows × columns.
const heatTable = (caption, corner, rows, cols, count) => {
  const max = Math.max(1, ...rows.flatMap((r) => cols.map((c) => count(r.key, c.key))));
  return h("table", { className: "heat" },
    h("caption", null, caption),
    h("thead", null, h("tr", null, h("th", { scope: "col" }, corner), cols.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", null, rows.map((r) => h("tr", null, h("th", { scope: "row" }, r.label), cols.map((c) => {
      const n = count(r.key, c.key);
      const bg = heat(n / max);
      // Styled through the CSSOM: the console's policy allows no inline style.
      const td = h("td", null, n ? num(n) : "");
      td.style.backgroundColor = bg;
      td.style.color = inkOn(bg);
      return td;
    })))));
};

export default {
  id: "rfm",
  texts: {
    en: {
      "rfm.nav": "Customer value", "rfm.title": "Customer value",
      "rfm.none": "No customer-value run yet. Start one: Cove scores every customer on how recently, how often and how much they buy, predicts who is still active and what each is worth, and groups them into segments.",
      "rfm.unbound": "Bind an RFM scorer on the Policies page first.",
      "rfm.run": "Run", "rfm.run.now": "Score customers now", "rfm.unit": "Predict in", "rfm.unit.days": "days", "rfm.unit.weeks": "weeks",
      "rfm.running": "Scoring… {done} of {total} customers.", "rfm.failed": "This run failed: {error}",
      "rfm.lead": "{total} customers scored as of {date}: {champions} champions, {risk} at risk or can't-lose, {lost} lost.",
      "rfm.schedule": "Run every day", "rfm.schedule.hour": "At (hour of the day)", "rfm.schedule.zone": "Time zone",
      "rfm.schedule.save": "Save schedule", "rfm.schedule.next": "Next run: {at}.", "rfm.schedule.off": "Not scheduled.",
      "rfm.schedule.on": "Daily run on",
      "rfm.sizes": "Customers per segment", "rfm.sizes.summary": "The largest segment is {name} with {n} customers ({share}).",
      "rfm.tiers": "Five-tier view", "rfm.tiers.summary": "{active} active, {engaged} engaged, {silent} silent.",
      "rfm.grid": "Recency × frequency (customers per pair of scores; 5 is best)", "rfm.grid.r": "Recency ↓ / frequency →",
      "rfm.movement": "Movement since the previous run (rows: before, columns: now)", "rfm.movement.none": "This is the first run: movements show from the next one.",
      "rfm.movement.summary": "{up} customers moved into champions or loyal; {down} slipped into at risk, hibernating or lost.",
      "rfm.clv": "Predicted lifetime value", "rfm.clv.summary": "Half of the customers are worth less than {median}; {top} are worth {edge} or more.",
      "rfm.micro": "Micro-segments", "rfm.col.micro": "Micro-segment", "rfm.col.customers": "Customers", "rfm.col.download": "Download",
      "rfm.members": "Members", "rfm.members.pick": "Segment", "rfm.members.all": "All customers", "rfm.csv": "Download CSV",
      "rfm.col.customer": "Customer", "rfm.col.segment": "Segment", "rfm.col.tier": "Tier", "rfm.col.rfm": "R F M",
      "rfm.col.active": "Still active", "rfm.col.expected": "Expected orders", "rfm.col.clv": "Lifetime value",
      "rfm.lookup": "A customer's predictions", "rfm.lookup.id": "Customer id", "rfm.lookup.go": "Show",
      "rfm.lookup.result": "{id} is in {segment} ({tier}): {active} likely still active, {orders} orders expected over the horizon, lifetime value {clv}. Micro-segments: {micro}.",
      "rfm.lookup.rescored": "Rescored after new activity on {at}.",
      "rfm.off.few": "Predictions are off: only {n} customers bought on two days or more, and Cove needs {needed} to learn how often customers come back and when they stop. The segments use recency, frequency and spend alone.",
      "rfm.off.edge": "Predictions are off: your purchase history does not pin down the prediction model (its fit ran to {at}, the edge of what can be estimated). The segments use recency, frequency and spend alone.",
      "rfm.model": "The fitted model", "rfm.model.bgnbd": "BG/NBD (purchases): r {r}, α {alpha}, a {a}, b {b}.", "rfm.model.gg": "Gamma-Gamma (order value): p {p}, q {q}, v {v}.",
      "rfm.seg.champions": "Champions", "rfm.seg.loyal": "Loyal", "rfm.seg.potential-loyalist": "Potential loyalists", "rfm.seg.new": "New",
      "rfm.seg.promising": "Promising", "rfm.seg.needs-attention": "Needs attention", "rfm.seg.about-to-sleep": "About to sleep",
      "rfm.seg.at-risk": "At risk", "rfm.seg.cannot-lose-them": "Can't lose them", "rfm.seg.hibernating": "Hibernating", "rfm.seg.lost": "Lost",
      "rfm.tier.active": "Active", "rfm.tier.engaged": "Engaged", "rfm.tier.potential": "Potential", "rfm.tier.at-risk": "At risk", "rfm.tier.silent": "Silent",
    },
    zh: {
      "rfm.nav": "客户价值", "rfm.title": "客户价值",
      "rfm.none": "还没有客户价值分析。开始一次：Cove 按最近购买时间、购买频率和金额为每位客户打分，预测谁仍然活跃、每位客户价值多少，并划分客群。",
      "rfm.unbound": "请先在“策略”页面绑定 RFM 评分插件。",
      "rfm.run": "分析", "rfm.run.now": "立即为客户打分", "rfm.unit": "预测单位", "rfm.unit.days": "天", "rfm.unit.weeks": "周",
      "rfm.running": "打分中…… 已完成 {done} / {total} 位客户。", "rfm.failed": "本次分析失败：{error}",
      "rfm.lead": "截至 {date} 共为 {total} 位客户打分：{champions} 位重要价值客户，{risk} 位有流失风险，{lost} 位已流失。",
      "rfm.schedule": "每天运行", "rfm.schedule.hour": "时间（几点）", "rfm.schedule.zone": "时区",
      "rfm.schedule.save": "保存计划", "rfm.schedule.next": "下次运行：{at}。", "rfm.schedule.off": "未设置计划。",
      "rfm.schedule.on": "每天运行：开启",
      "rfm.sizes": "各客群人数", "rfm.sizes.summary": "最大的客群是 {name}，共 {n} 位客户（{share}）。",
      "rfm.tiers": "五层视图", "rfm.tiers.summary": "活跃 {active}，互动 {engaged}，沉默 {silent}。",
      "rfm.grid": "最近购买 × 购买频率（每个分数组合的客户数；5 为最好）", "rfm.grid.r": "最近 ↓ / 频率 →",
      "rfm.movement": "与上次分析相比的迁移（行：之前，列：现在）", "rfm.movement.none": "这是第一次分析：下次分析后显示迁移。",
      "rfm.movement.summary": "{up} 位客户进入重要价值或忠诚客群；{down} 位滑入风险、沉睡或流失客群。",
      "rfm.clv": "预测客户终身价值", "rfm.clv.summary": "一半客户的价值低于 {median}；{top} 位客户价值在 {edge} 以上。",
      "rfm.micro": "细分客群", "rfm.col.micro": "细分客群", "rfm.col.customers": "客户数", "rfm.col.download": "下载",
      "rfm.members": "成员", "rfm.members.pick": "客群", "rfm.members.all": "全部客户", "rfm.csv": "下载 CSV",
      "rfm.col.customer": "客户", "rfm.col.segment": "客群", "rfm.col.tier": "层级", "rfm.col.rfm": "R F M",
      "rfm.col.active": "仍活跃概率", "rfm.col.expected": "预计订单数", "rfm.col.clv": "终身价值",
      "rfm.lookup": "单个客户的预测", "rfm.lookup.id": "客户 ID", "rfm.lookup.go": "查看",
      "rfm.lookup.result": "{id} 属于 {segment}（{tier}）：仍活跃概率 {active}，预计 {orders} 笔订单，终身价值 {clv}。细分客群：{micro}。",
      "rfm.lookup.rescored": "因新的活动于 {at} 重新打分。",
      "rfm.off.few": "预测已关闭：只有 {n} 位顾客在两天或以上购买过，Cove 需要 {needed} 位才能了解顾客多久回购一次、何时流失。分群只按最近购买、频次和消费金额。",
      "rfm.off.edge": "预测已关闭：现有购买记录不足以确定预测模型（拟合跑到了 {at}，已到可估计的边界）。分群只按最近购买、频次和消费金额。",
      "rfm.model": "拟合的模型", "rfm.model.bgnbd": "BG/NBD（购买）：r {r}，α {alpha}，a {a}，b {b}。", "rfm.model.gg": "Gamma-Gamma（客单价）：p {p}，q {q}，v {v}。",
      "rfm.seg.champions": "重要价值客户", "rfm.seg.loyal": "忠诚客户", "rfm.seg.potential-loyalist": "潜在忠诚客户", "rfm.seg.new": "新客户",
      "rfm.seg.promising": "有潜力客户", "rfm.seg.needs-attention": "需要关注", "rfm.seg.about-to-sleep": "即将沉睡",
      "rfm.seg.at-risk": "有流失风险", "rfm.seg.cannot-lose-them": "不能失去的客户", "rfm.seg.hibernating": "沉睡客户", "rfm.seg.lost": "已流失",
      "rfm.tier.active": "活跃", "rfm.tier.engaged": "互动", "rfm.tier.potential": "潜力", "rfm.tier.at-risk": "风险", "rfm.tier.silent": "沉默",
    },
  },
  render: (main) => draw(main),
};

const draw = async (main) => {
  const redraw = async () => {
    main.replaceChildren();
    await draw(main);
  };
  const [{ runs }, { schedule }] = await Promise.all([api("rfm/runs"), api("rfm/schedule")]);
  main.append(starter(redraw), scheduler(schedule));
  if (!runs.length) {
    main.append(h("p", { className: "lead" }, t("rfm.none")));
    return;
  }
  const pick = h("select", { id: "rfm-run" }, ...runs.map((r) =>
    h("option", { value: r.id }, when(r.as_of) + " — " + r.status)));
  const shown = h("section", { "data-run": "" });
  const show = async () => shown.replaceChildren(await report(runs.find((r) => r.id == pick.value), redraw));
  pick.addEventListener("change", show);
  main.append(field(t("rfm.run"), pick), shown);
  await show();
};

const starter = (redraw) => {
  const unit = h("select", { id: "rfm-unit" }, h("option", { value: "weeks" }, t("rfm.unit.weeks")), h("option", { value: "days" }, t("rfm.unit.days")));
  const form = h("form", { className: "actions" });
  const s = saver(t("rfm.run.now"), async () => {
    try {
      await api("rfm/runs", { method: "POST", body: { time_unit: unit.value } });
    } catch (e) {
      if (e.code == "no_rfm_scorer") throw new Error(t("rfm.unbound"));
      throw e;
    }
    await redraw();
  });
  form.addEventListener("submit", s.run);
  form.append(field(t("rfm.unit"), unit), s.button, s.status);
  return form;
};

const scheduler = (schedule) => {
  const on = h("input", { type: "checkbox", id: "rfm-daily", checked: !!schedule });
  const hour = h("input", { type: "number", id: "rfm-hour", min: 0, max: 23, value: schedule ? schedule.hour : 3 });
  const zone = h("input", { type: "text", id: "rfm-zone", value: schedule ? schedule.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const next = h("p", { className: "hint", "data-schedule": "" }, schedule ? t("rfm.schedule.next", { at: when(schedule.next_at) }) : t("rfm.schedule.off"));
  const form = h("form", { className: "schedule" });
  const s = saver(t("rfm.schedule.save"), async () => {
    const r = await api("rfm/schedule", { method: "PUT", body: on.checked ? { hour: Number(hour.value), time_zone: zone.value.trim(), time_unit: "weeks" } : { enabled: false } });
    next.textContent = r.schedule ? t("rfm.schedule.next", { at: when(r.schedule.next_at) }) : t("rfm.schedule.off");
  });
  form.addEventListener("submit", s.run);
  form.append(h("details", { open: !!schedule }, h("summary", null, t("rfm.schedule")),
    h("div", { className: "field" }, h("label", null, on, " " + t("rfm.schedule.on"))),
    field(t("rfm.schedule.hour"), hour), field(t("rfm.schedule.zone"), zone), next, s.button, s.status));
  return form;
};

const csvLink = (run, q) =>
  h("a", { href: "/v1/merchants/" + encodeURIComponent(session.merchant) + "/rfm/runs/" + encodeURIComponent(run.id) + "/customers.csv" + q, download: run.id + ".csv" }, t("rfm.csv"));

const report = async (run, redraw) => {
  const out = h("div");
  if (run.status == "running") {
    out.append(h("p", { role: "status", "data-progress": "" }, t("rfm.running", { done: num(run.progress.done), total: num(run.progress.total) })));
    setTimeout(() => out.isConnected && redraw(), 1000);
    return out;
  }
  if (run.status == "failed") {
    out.append(h("p", { role: "alert", className: "error" }, t("rfm.failed", { error: run.error })));
    return out;
  }
  const sz = run.segments;
  const total = run.progress.total;
  const n = (s) => sz.segments[s] || 0;
  out.append(h("p", { className: "lead", "data-lead": "" }, t("rfm.lead", {
    total: num(total), date: when(run.as_of), champions: num(n("champions")),
    risk: num(n("at-risk") + n("cannot-lose-them")), lost: num(n("lost")),
  })));

  // A fit the data could not pin down: no predictions, and why.
  const off = sz.predictions_off;
  if (off) out.append(h("p", { className: "note", "data-predictions-off": off.reason },
    off.reason == "few_repeaters" ? t("rfm.off.few", { n: num(off.repeaters), needed: num(off.needed) }) : t("rfm.off.edge", { at: off.at })));

  const names = [...SEGMENTS.filter((s) => s in sz.segments), ...Object.keys(sz.segments).filter((s) => !SEGMENTS.includes(s))];
  const largest = names.reduce((a, s) => (n(s) > n(a) ? s : a), names[0]);
  out.append(chart(t("rfm.sizes"), {
    labels: names.map(seg), horizontal: true,
    series: [{ label: t("rfm.col.customers"), data: names.map(n), colors: names.map((_, i) => COLORS[i % COLORS.length]) }],
    summary: t("rfm.sizes.summary", { name: seg(largest), n: num(n(largest)), share: pct(n(largest) / Math.max(1, total)) }),
  }));
  const tiers = [...TIERS.filter((s) => s in sz.tiers), ...Object.keys(sz.tiers).filter((s) => !TIERS.includes(s))];
  out.append(chart(t("rfm.tiers"), {
    labels: tiers.map(tier), series: [{ label: t("rfm.col.customers"), data: tiers.map((s) => sz.tiers[s] || 0) }],
    summary: t("rfm.tiers.summary", { active: num(sz.tiers.active || 0), engaged: num(sz.tiers.engaged || 0), silent: num(sz.tiers.silent || 0) }),
  }));

  // The grid: recency rows from best (top) to worst, frequency columns.
  const scores = [...new Set(sz.grid.flatMap((g) => [g[0], g[1]]))].sort((a, b) => a - b);
  const cell = new Map(sz.grid.map(([r, f, c]) => [r + "," + f, c]));
  out.append(h("div", { "data-heatmap": "" }, heatTable(t("rfm.grid"), t("rfm.grid.r"),
    [...scores].reverse().map((s) => ({ key: s, label: "R " + s })), scores.map((s) => ({ key: s, label: "F " + s })),
    (r, f) => cell.get(r + "," + f) || 0)));

  if (run.movement && run.movement.moves) {
    const moves = run.movement.moves;
    const from = [...new Set(moves.map((m) => m[0]))], to = [...new Set(moves.map((m) => m[1]))];
    const order = (xs) => [...SEGMENTS.filter((s) => xs.includes(s)), ...xs.filter((s) => !SEGMENTS.includes(s))];
    const count = new Map(moves.map(([a, b, c]) => [a + "→" + b, c]));
    const good = ["champions", "loyal"], bad = ["at-risk", "hibernating", "lost"];
    const up = moves.filter(([a, b]) => good.includes(b) && !good.includes(a)).reduce((x, m) => x + m[2], 0);
    const down = moves.filter(([a, b]) => bad.includes(b) && !bad.includes(a)).reduce((x, m) => x + m[2], 0);
    out.append(h("div", { "data-movement": "" },
      h("p", null, t("rfm.movement.summary", { up: num(up), down: num(down) })),
      heatTable(t("rfm.movement"), "", order(from).map((s) => ({ key: s, label: seg(s) })), order(to).map((s) => ({ key: s, label: seg(s) })),
        (a, b) => count.get(a + "→" + b) || 0)));
  } else out.append(h("p", { "data-movement": "none" }, t("rfm.movement.none")));

  if (sz.clv) {
    const { edges, counts } = sz.clv;
    const labels = counts.map((_, i) => (i == 0 ? "< " + num(edges[0]) : i == edges.length ? num(edges[i - 1]) + "+" : num(edges[i - 1]) + "–" + num(edges[i])));
    const all = counts.reduce((a, b) => a + b, 0);
    let acc = 0, median = edges.length;
    for (let i = 0; i < counts.length; i++) { acc += counts[i]; if (acc * 2 >= all) { median = i; break; } }
    const topIndex = Math.max(0, counts.length - 3);
    out.append(h("div", { "data-clv": "" }, chart(t("rfm.clv"), {
      labels, series: [{ label: t("rfm.col.customers"), data: counts }],
      summary: t("rfm.clv.summary", { median: num(edges[Math.min(median, edges.length - 1)]), top: num(counts.slice(topIndex).reduce((a, b) => a + b, 0)), edge: num(edges[topIndex - 1] || 0) }),
    })));
  }

  const micro = Object.entries(sz.micro_segments || {}).sort((a, b) => b[1] - a[1]);
  if (micro.length)
    out.append(h("div", { "data-micro": "" }, table(t("rfm.micro"), [
      { label: t("rfm.col.micro"), value: (m) => m[0] },
      { label: t("rfm.col.customers"), value: (m) => num(m[1]) },
      { label: t("rfm.col.download"), value: (m) => csvLink(run, "?micro=" + encodeURIComponent(m[0])) },
    ], micro)));

  out.append(await members(run, names));
  out.append(lookup());
  const m = run.model || {};
  const r4 = (x) => (x == null ? "—" : Math.round(x * 1e4) / 1e4);
  out.append(h("details", { "data-model": "" }, h("summary", null, t("rfm.model")),
    m.bgnbd ? h("p", null, t("rfm.model.bgnbd", { r: r4(m.bgnbd.r), alpha: r4(m.bgnbd.alpha), a: r4(m.bgnbd.a), b: r4(m.bgnbd.b) })) : null,
    m["gamma-gamma"] ? h("p", null, t("rfm.model.gg", { p: r4(m["gamma-gamma"].p), q: r4(m["gamma-gamma"].q), v: r4(m["gamma-gamma"].v) })) : null));
  return out;
};

const memberColumns = () => [
  { label: t("rfm.col.customer"), value: (c) => c.customer_id },
  { label: t("rfm.col.segment"), value: (c) => seg(c.segment) },
  { label: t("rfm.col.tier"), value: (c) => tier(c.tier) },
  { label: t("rfm.col.rfm"), value: (c) => c.recency + " " + c.frequency + " " + c.monetary },
  { label: t("rfm.col.active"), value: (c) => pct(c.p_active) },
  { label: t("rfm.col.expected"), value: (c) => (c.expected_purchases == null ? "—" : (Math.round(c.expected_purchases * 100) / 100).toString()) },
  { label: t("rfm.col.clv"), value: (c) => money(c.clv) },
];

const members = async (run, names) => {
  const pick = h("select", { id: "rfm-segment" }, h("option", { value: "" }, t("rfm.members.all")), ...names.map((s) => h("option", { value: s }, seg(s))));
  const list = h("div", { "data-members": "" });
  const link = h("span");
  const show = async () => {
    const q = pick.value ? "?segment=" + encodeURIComponent(pick.value) : "";
    const page = await api("rfm/runs/" + encodeURIComponent(run.id) + "/customers" + (q ? q + "&" : "?") + "limit=50");
    list.replaceChildren(table(t("rfm.members"), memberColumns(), page.customers));
    link.replaceChildren(csvLink(run, q));
  };
  pick.addEventListener("change", show);
  await show();
  return h("section", null, h("h2", null, t("rfm.members")), field(t("rfm.members.pick"), pick), link, list);
};

const lookup = () => {
  const id = h("input", { type: "text", id: "rfm-customer", required: true, spellcheck: false });
  const result = h("div", { "data-customer": "" });
  const form = h("form", { className: "lookup", "data-read": true });
  const s = saver(t("rfm.lookup.go"), async () => {
    const c = await api("rfm/customers/" + encodeURIComponent(id.value.trim()));
    result.replaceChildren(
      h("p", null, t("rfm.lookup.result", {
        id: c.customer_id, segment: seg(c.segment), tier: tier(c.tier), active: pct(c.p_active),
        orders: c.expected_purchases == null ? "—" : Math.round(c.expected_purchases * 100) / 100, clv: money(c.clv),
        micro: (c.micro_segments || []).join(", ") || "—",
      })),
      c.rescored_at ? h("p", { className: "hint" }, t("rfm.lookup.rescored", { at: when(c.rescored_at) })) : null);
  });
  form.addEventListener("submit", s.run);
  form.append(h("h2", null, t("rfm.lookup")), field(t("rfm.lookup.id"), id), s.button, s.status, result);
  return form;
};
