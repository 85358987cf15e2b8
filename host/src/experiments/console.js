// Experiments: each test's verdict in one sentence, its arms' conversion
// rates over time with their 95% intervals, each arm's chance to be best,
// the traffic-split check in plain words, a multivariate test's factor
// effects, revenue per visitor and per order next to conversion (with the
// narrowing CUPED achieved), and the buttons to start or stop it; then a form to set up a
// new test (or paste one from GrowthBook).
import { h, t, api, num, pct, table, field, saver, chart, lang, COLORS } from "./ui.js";

const signed = (x) => (x == null || !isFinite(x) ? "—" : (x >= 0 ? "+" : "−") + Math.abs(Math.round(x * 1000) / 10) + "%");
const rate = (x) => (x == null ? "—" : Math.round(x * 10000) / 100 + "%");
const chance = (x) => (x >= 0.995 ? ">99%" : x <= 0.005 ? "<1%" : pct(x));
const money = (x, currency) => (x == null || !isFinite(x) || !currency ? "—" : new Intl.NumberFormat(lang == "zh" ? "zh-CN" : "en", { style: "currency", currency }).format(x));
const keyOf = (name) => name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 64) || "test";

export default {
  id: "experiments",
  texts: {
    en: {
      "experiments.nav": "Experiments", "experiments.title": "Experiments",
      "experiments.none": "No experiments yet. Set one up below: two versions of a banner, a headline or a button, and Cove splits your visitors between them.",
      "experiments.status.draft": "Draft", "experiments.status.running": "Running", "experiments.status.stopped": "Stopped",
      "experiments.mode.fixed": "fixed split", "experiments.mode.bandit": "bandit (moves traffic to the best)",
      "experiments.pick": "Experiment",
      "experiments.verdict.best": "{name} is {chance} likely to be the best: {uplift} conversion against {control} (95% interval {lo} to {hi}).",
      "experiments.verdict.unclear": "No clear winner yet: the best so far, {name}, is {chance} likely to be best. Keep the test running.",
      "experiments.verdict.empty": "No visitors have seen this test yet.",
      "experiments.srm": "Warning: the traffic split does not match the plan (planned {planned}, got {observed}; p = {p}). Some visitors are probably not counted the same way in every version — check that each version records its views before trusting these results.",
      "experiments.srm.ok": "Traffic split as planned ({observed}).",
      "experiments.counting": "Still counting views and purchases that arrived in bulk: these figures leave some out and fill in within a minute or two.",
      "experiments.srm.bandit": "A bandit moves its split on purpose; current shares: {shares}.",
      "experiments.over.time": "Conversion rate over time, with 95% intervals",
      "experiments.over.time.summary": "After {days} days: {rates}.",
      "experiments.best": "Chance to be the best", "experiments.best.summary": "{name} leads with {chance}.",
      "experiments.arms": "Versions", "experiments.col.version": "Version", "experiments.col.visitors": "Visitors",
      "experiments.col.conversions": "Conversions", "experiments.col.rate": "Rate (95%)", "experiments.col.uplift": "Against control (95%)",
      "experiments.col.win": "Chance to beat control", "experiments.col.risk": "Risk if chosen",
      "experiments.factors": "What each factor does", "experiments.factors.summary": "Biggest effect: {factor} = {level}, {effect}.",
      "experiments.start": "Start", "experiments.stop": "Stop and show everyone", "experiments.serve": "After stopping, everyone sees", "experiments.serve.winner": "the winner", "experiments.serve.control": "the control",
      "experiments.served": "Stopped: everyone sees {name}.", "experiments.started": "Running.",
      "experiments.new": "Set up a test", "experiments.new.name": "Name", "experiments.new.name.hint": "For example: Free shipping banner.",
      "experiments.new.variations": "Versions, one per line", "experiments.new.variations.hint": "The first is your current version (the control).",
      "experiments.new.mode": "How to split visitors", "experiments.new.event": "What counts as a conversion",
      "experiments.new.event.hint": "An event name; purchase counts every order.", "experiments.new.create": "Create and start",
      "experiments.import": "Paste a GrowthBook experiment (JSON)", "experiments.import.go": "Import",
      "experiments.control": "Control",
      "experiments.revenue": "Revenue per visitor, with 95% intervals",
      "experiments.revenue.none": "No orders from these visitors within {hours} hours of their first view yet, so there is no revenue to compare.",
      "experiments.revenue.verdict": "Revenue per visitor: {name} {uplift} against {control} (95% interval {lo} to {hi}; {chance} chance it is higher).",
      "experiments.revenue.cuped": "What visitors spent in the {days} days before their first view made this interval {narrower} narrower (CUPED): the same certainty with fewer visitors.",
      "experiments.revenue.cuped.none": "Spending before the test did not predict spending during it, so no adjustment was made.",
      "experiments.revenue.cuped.off": "The adjustment by earlier spending (CUPED) is off for this test.",
      "experiments.revenue.other": "{n} orders in other currencies than {currency} are left out.",
      "experiments.revenue.summary": "{values}.",
      "experiments.col.revenue": "Revenue", "experiments.col.orders": "Orders", "experiments.col.per.visitor": "Per visitor (95%)",
      "experiments.col.per.visitor.uplift": "Per visitor against control (95%)", "experiments.col.aov": "Average order",
      "experiments.col.aov.uplift": "Average order against control (95%)", "experiments.col.p": "p-value",
    },
    zh: {
      "experiments.nav": "实验", "experiments.title": "实验",
      "experiments.none": "还没有实验。在下方创建一个：横幅、标题或按钮的两个版本，Cove 会把访客分配到各个版本。",
      "experiments.status.draft": "草稿", "experiments.status.running": "进行中", "experiments.status.stopped": "已停止",
      "experiments.mode.fixed": "固定分流", "experiments.mode.bandit": "多臂老虎机（流量自动流向最优版本）",
      "experiments.pick": "实验",
      "experiments.verdict.best": "{name} 有 {chance} 的概率是最优版本：转化率比 {control} {uplift}（95% 区间 {lo} 至 {hi}）。",
      "experiments.verdict.unclear": "暂无明确胜者：目前最好的 {name} 是最优版本的概率为 {chance}。请继续运行实验。",
      "experiments.verdict.empty": "还没有访客看到这个实验。",
      "experiments.srm": "警告：流量分配与计划不符（计划 {planned}，实际 {observed}；p = {p}）。可能有访客在某些版本中没有被同样地统计——请先确认每个版本都记录了浏览，再相信这些结果。",
      "experiments.srm.ok": "流量按计划分配（{observed}）。",
      "experiments.counting": "仍在统计批量导入的浏览和购买：这些数字暂时不全，一两分钟内会补齐。",
      "experiments.srm.bandit": "多臂老虎机会有意调整分流；当前比例：{shares}。",
      "experiments.over.time": "转化率随时间变化（含 95% 区间）",
      "experiments.over.time.summary": "{days} 天后：{rates}。",
      "experiments.best": "成为最优版本的概率", "experiments.best.summary": "{name} 领先，概率 {chance}。",
      "experiments.arms": "版本", "experiments.col.version": "版本", "experiments.col.visitors": "访客",
      "experiments.col.conversions": "转化", "experiments.col.rate": "转化率（95%）", "experiments.col.uplift": "相对对照组（95%）",
      "experiments.col.win": "胜过对照组的概率", "experiments.col.risk": "选择它的风险",
      "experiments.factors": "各因素的作用", "experiments.factors.summary": "影响最大：{factor} = {level}，{effect}。",
      "experiments.start": "开始", "experiments.stop": "停止并向所有人展示", "experiments.serve": "停止后所有人看到", "experiments.serve.winner": "胜出版本", "experiments.serve.control": "对照组",
      "experiments.served": "已停止：所有人都看到 {name}。", "experiments.started": "进行中。",
      "experiments.new": "创建实验", "experiments.new.name": "名称", "experiments.new.name.hint": "例如：免运费横幅。",
      "experiments.new.variations": "版本（每行一个）", "experiments.new.variations.hint": "第一个是当前版本（对照组）。",
      "experiments.new.mode": "分流方式", "experiments.new.event": "什么算作转化",
      "experiments.new.event.hint": "事件名称；purchase 表示每笔订单。", "experiments.new.create": "创建并开始",
      "experiments.import": "粘贴 GrowthBook 实验（JSON）", "experiments.import.go": "导入",
      "experiments.control": "对照组",
      "experiments.revenue": "每位访客的收入（含 95% 区间）",
      "experiments.revenue.none": "这些访客在首次看到实验后 {hours} 小时内还没有订单，暂无收入可比较。",
      "experiments.revenue.verdict": "每位访客收入：{name} 比 {control} {uplift}（95% 区间 {lo} 至 {hi}；更高的概率为 {chance}）。",
      "experiments.revenue.cuped": "利用访客首次看到实验前 {days} 天的消费，这个区间缩窄了 {narrower}（CUPED）：用更少的访客得到同样的把握。",
      "experiments.revenue.cuped.none": "实验前的消费无法预测实验期间的消费，因此没有做调整。",
      "experiments.revenue.cuped.off": "此实验已关闭按既往消费的调整（CUPED）。",
      "experiments.revenue.other": "{n} 笔非 {currency} 货币的订单未计入。",
      "experiments.revenue.summary": "{values}。",
      "experiments.col.revenue": "收入", "experiments.col.orders": "订单", "experiments.col.per.visitor": "每位访客（95%）",
      "experiments.col.per.visitor.uplift": "每位访客相对对照组（95%）", "experiments.col.aov": "平均订单金额",
      "experiments.col.aov.uplift": "平均订单相对对照组（95%）", "experiments.col.p": "p 值",
    },
  },
  render: (main) => draw(main),
};

// Draw the page into `main`, again after a start, a stop or a new test.
const draw = async (main) => {
  const redraw = async () => {
    main.replaceChildren();
    await draw(main);
  };
  {
    const { experiments } = await api("experiments");
    if (!experiments.length) main.append(h("p", { className: "lead" }, t("experiments.none")));
    else {
      const pick = h("select", { id: "experiment" }, ...experiments.map((e) =>
        h("option", { value: e.key }, (e.definition.name || e.key) + " — " + t("experiments.status." + e.status))));
      const shown = h("section", { "data-experiment": "" });
      const show = async () => {
        const e = experiments.find((x) => x.key == pick.value);
        shown.replaceChildren(await results(e, redraw));
      };
      pick.addEventListener("change", show);
      main.append(field(t("experiments.pick"), pick), shown);
      await show();
    }
    main.append(creator(redraw));
  }
};

const results = async (e, redraw) => {
  const r = await api("experiments/" + encodeURIComponent(e.key) + "/results");
  const names = e.variation_names.map((n, i) => (i == 0 && n == "Control" ? t("experiments.control") : n));
  const out = h("div", null, h("p", { className: "hint" }, t("experiments.status." + e.status) + " · " + t("experiments.mode." + r.mode)));
  const arms = r.arms;
  const total = arms.reduce((a, x) => a + x.exposures, 0);
  const best = arms.reduce((a, x) => (x.chance_to_be_best > a.chance_to_be_best ? x : a), arms[0]);
  let verdict;
  if (!total) verdict = t("experiments.verdict.empty");
  else if (best.chance_to_be_best >= 0.95 && best.variation > 0)
    verdict = t("experiments.verdict.best", { name: names[best.variation], chance: chance(best.chance_to_be_best), uplift: signed(best.uplift), control: names[0], lo: signed(best.uplift_ci[0]), hi: signed(best.uplift_ci[1]) });
  else verdict = t("experiments.verdict.unclear", { name: names[best.variation], chance: chance(best.chance_to_be_best) });
  out.append(h("p", { className: "lead", "data-verdict": "" }, verdict));

  const split = (xs) => xs.map((x, i) => names[i] + " " + pct(x)).join(", ");
  if (r.counting) out.append(h("p", { role: "status", "data-counting": "" }, t("experiments.counting")));
  if (!r.srm.checked) out.append(h("p", { "data-srm": "bandit" }, t("experiments.srm.bandit", { shares: split(arms.map((a) => a.weight)) })));
  else if (r.srm.warning) {
    const seen = r.srm.observed.map((n) => n / Math.max(1, total));
    out.append(h("p", { role: "alert", className: "error", "data-srm": "warning" }, t("experiments.srm", { planned: split(r.srm.planned), observed: split(seen), p: r.srm.p.toPrecision(2) })));
  } else if (total) out.append(h("p", { "data-srm": "ok" }, t("experiments.srm.ok", { observed: split(r.srm.observed.map((n) => n / total)) })));

  if (r.daily.length) {
    const series = [];
    arms.forEach((a, i) => {
      const color = COLORS[i % COLORS.length];
      series.push({ label: "", data: r.daily.map((d) => d.arms[i].rate_ci[0] * 100), color, options: { pointRadius: 0, borderWidth: 0, fill: false } });
      series.push({ label: "", data: r.daily.map((d) => d.arms[i].rate_ci[1] * 100), color, options: { pointRadius: 0, borderWidth: 0, fill: "-1", backgroundColor: color + "22" } });
      series.push({ label: names[i], data: r.daily.map((d) => d.arms[i].rate * 100), color, options: { fill: false, pointRadius: 2 } });
    });
    const last = r.daily[r.daily.length - 1];
    out.append(chart(t("experiments.over.time"), {
      type: "line", labels: r.daily.map((d) => d.day), series, format: (x) => (x == null ? "—" : Math.round(x * 100) / 100 + "%"),
      y: { ticks: { callback: (v) => v + "%" } },
      summary: t("experiments.over.time.summary", { days: r.daily.length, rates: last.arms.map((a, i) => names[i] + " " + rate(a.rate)).join(", ") }),
    }));
  }
  if (total) {
    out.append(chart(t("experiments.best"), {
      labels: names, horizontal: true,
      series: [{ label: t("experiments.best"), data: arms.map((a) => Math.round(a.chance_to_be_best * 1000) / 10), colors: arms.map((_, i) => COLORS[i % COLORS.length]) }],
      y: { max: 100, ticks: { callback: (v) => v + "%" } },
      summary: t("experiments.best.summary", { name: names[best.variation], chance: chance(best.chance_to_be_best) }),
    }));
  }
  out.append(h("div", { "data-arms": "" }, table(t("experiments.arms"), [
    { label: t("experiments.col.version"), value: (a) => names[a.variation] },
    { label: t("experiments.col.visitors"), value: (a) => num(a.exposures) },
    { label: t("experiments.col.conversions"), value: (a) => num(a.conversions) },
    { label: t("experiments.col.rate"), value: (a) => rate(a.rate) + " (" + rate(a.rate_ci[0]) + "–" + rate(a.rate_ci[1]) + ")" },
    { label: t("experiments.col.uplift"), value: (a) => (a.variation ? signed(a.uplift) + " (" + signed(a.uplift_ci[0]) + " … " + signed(a.uplift_ci[1]) + ")" : "—") },
    { label: t("experiments.col.win"), value: (a) => (a.variation ? chance(a.chance_to_win) : "—") },
    { label: t("experiments.col.risk"), value: (a) => (a.variation ? signed(-a.risk[1]) : "—") },
  ], arms)));

  if (total) out.append(revenue(r, names));

  if (r.factors && total) {
    const levels = r.factors.flatMap((f) => f.levels.slice(1).map((l) => ({ factor: f.name, level: String(l.level), effect: l.effect })));
    const top = levels.reduce((a, x) => (Math.abs(x.effect) > Math.abs(a.effect) ? x : a), levels[0]);
    out.append(h("div", { "data-factors": "" }, chart(t("experiments.factors"), {
      labels: levels.map((l) => l.factor + " = " + l.level), horizontal: true,
      series: [{ label: t("experiments.col.uplift"), data: levels.map((l) => Math.round(l.effect * 1000) / 10) }],
      y: { beginAtZero: true, ticks: { callback: (v) => v + "%" } },
      summary: t("experiments.factors.summary", { factor: top.factor, level: top.level, effect: signed(top.effect) }),
    })));
  }

  const actions = h("form", { className: "actions" });
  if (e.status == "draft") {
    const s = saver(t("experiments.start"), async () => {
      await api("experiments/" + encodeURIComponent(e.key), { method: "PUT", body: { ...e.definition, status: "running" } });
      await redraw();
    });
    actions.addEventListener("submit", s.run);
    actions.append(s.button, s.status);
  } else if (e.status == "running") {
    const serve = h("select", { id: "serve" }, h("option", { value: "winner" }, t("experiments.serve.winner")), h("option", { value: "control" }, t("experiments.serve.control")));
    const s = saver(t("experiments.stop"), async () => {
      const done = await api("experiments/" + encodeURIComponent(e.key) + "/stop", { method: "POST", body: { serve: serve.value } });
      actions.replaceChildren(h("p", { role: "status" }, t("experiments.served", { name: names[done.served] })));
    });
    actions.addEventListener("submit", s.run);
    actions.append(field(t("experiments.serve"), serve), s.button, s.status);
  } else actions.append(h("p", null, t("experiments.served", { name: names[e.served || 0] })));
  out.append(actions);
  return out;
};

// Revenue next to conversion: a sentence for the best-supported arm, the
// per-visitor chart with intervals, what CUPED achieved, and a table.
const revenue = (r, names) => {
  const rev = r.revenue;
  const out = h("section", { "data-revenue": "" });
  if (!rev.currency) {
    out.append(h("p", { "data-revenue-none": "" }, t("experiments.revenue.none", { hours: r.attribution_hours })));
    return out;
  }
  const cur = rev.currency;
  const arms = rev.arms;
  const others = arms.slice(1).filter((a) => a.per_visitor_vs);
  if (others.length) {
    const top = others.reduce((a, x) => (x.per_visitor_vs.chance_to_win > a.per_visitor_vs.chance_to_win ? x : a), others[0]);
    const v = top.per_visitor_vs;
    out.append(h("p", { className: "lead", "data-revenue-verdict": "" }, t("experiments.revenue.verdict", {
      name: names[top.variation], control: names[0], uplift: signed(v.uplift), lo: signed(v.uplift_ci[0]), hi: signed(v.uplift_ci[1]), chance: chance(v.chance_to_win) })));
    const cut = top.cuped_variance_reduction;
    const note = !rev.regression_adjustment_days ? t("experiments.revenue.cuped.off")
      : cut > 0.005 ? t("experiments.revenue.cuped", { days: rev.regression_adjustment_days, narrower: pct(1 - Math.sqrt(1 - cut)) })
      : t("experiments.revenue.cuped.none");
    out.append(h("p", { "data-cuped": "" }, note));
  }
  out.append(chart(t("experiments.revenue"), {
    labels: names, horizontal: true,
    series: [{ label: t("experiments.col.per.visitor"), data: arms.map((a) => Math.round(a.per_visitor * 100) / 100), colors: arms.map((_, i) => COLORS[i % COLORS.length]) }],
    format: (x) => money(x, cur),
    summary: t("experiments.revenue.summary", { values: arms.map((a, i) => names[i] + " " + money(a.per_visitor, cur) + " (" + money(a.per_visitor_ci[0], cur) + "–" + money(a.per_visitor_ci[1], cur) + ")").join(", ") }),
  }));
  const vs = (x) => (x ? signed(x.uplift) + " (" + signed(x.uplift_ci[0]) + " … " + signed(x.uplift_ci[1]) + ")" : "—");
  out.append(h("div", { "data-revenue-arms": "" }, table(t("experiments.revenue"), [
    { label: t("experiments.col.version"), value: (a) => names[a.variation] },
    { label: t("experiments.col.revenue"), value: (a) => money(a.revenue, cur) },
    { label: t("experiments.col.orders"), value: (a) => num(a.orders) },
    { label: t("experiments.col.per.visitor"), value: (a) => money(a.per_visitor, cur) + " (" + money(a.per_visitor_ci[0], cur) + "–" + money(a.per_visitor_ci[1], cur) + ")" },
    { label: t("experiments.col.per.visitor.uplift"), value: (a) => vs(a.per_visitor_vs) },
    { label: t("experiments.col.p"), value: (a) => (a.per_visitor_vs ? a.per_visitor_vs.p_value.toPrecision(2) : "—") },
    { label: t("experiments.col.aov"), value: (a) => money(a.average_order, cur) },
    { label: t("experiments.col.aov.uplift"), value: (a) => vs(a.average_order_vs) },
  ], arms)));
  if (rev.other_currency_orders) out.append(h("p", { className: "hint" }, t("experiments.revenue.other", { n: num(rev.other_currency_orders), currency: cur })));
  return out;
};

const creator = (redraw) => {
  const name = h("input", { type: "text", id: "new-name", required: true, maxLength: 100 });
  const variations = h("textarea", { id: "new-variations", required: true, rows: 3 });
  const mode = h("select", { id: "new-mode" }, h("option", { value: "fixed" }, t("experiments.mode.fixed")), h("option", { value: "bandit" }, t("experiments.mode.bandit")));
  const event = h("input", { type: "text", id: "new-event", value: "purchase", maxLength: 100 });
  const form = h("form", { className: "new-experiment" });
  const s = saver(t("experiments.new.create"), async () => {
    const lines = variations.value.split("\n").map((l) => l.trim()).filter(Boolean);
    await api("experiments", { method: "POST", body: { key: keyOf(name.value), name: name.value, variations: lines, hashVersion: 2, mode: mode.value, conversionEvent: event.value.trim(), status: "running" } });
    await redraw();
  });
  form.addEventListener("submit", s.run);
  form.append(h("h2", null, t("experiments.new")),
    field(t("experiments.new.name"), name, t("experiments.new.name.hint")),
    field(t("experiments.new.variations"), variations, t("experiments.new.variations.hint")),
    field(t("experiments.new.mode"), mode),
    field(t("experiments.new.event"), event, t("experiments.new.event.hint")),
    s.button, s.status);
  const pasted = h("textarea", { id: "import-json", rows: 6, spellcheck: false });
  const imp = h("form", { className: "import" });
  const si = saver(t("experiments.import.go"), async () => {
    await api("experiments", { method: "POST", body: JSON.parse(pasted.value) });
    await redraw();
  });
  imp.addEventListener("submit", si.run);
  imp.append(field(t("experiments.import"), pasted), si.button, si.status);
  return h("section", null, form, h("details", null, h("summary", null, t("experiments.import")), imp));
};
