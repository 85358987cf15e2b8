// Decision log: what each policy decided, sampled (every failure and
// fallback kept), with filters by policy, outcome, version and customer;
// one decision opens with its input, answer, what it used and its logs,
// ready to replay; and how much is kept, for how long.
import { h, t, api, num, when, table, field, saver, session } from "./ui.js";

const SLOTS = ["fatigue-policy", "channel-chooser", "return-flow", "allocator", "rfm-scorer"];

export default {
  id: "decisions",
  writes: ["policies"],
  texts: {
    en: {
      "decisions.nav": "Decision log", "decisions.title": "Decision log",
      "decisions.lead": "{n} decisions shown. Cove keeps every failure and every fallback, and {rate} of the other decisions, for {days} days.",
      "decisions.none": "No decisions match. Decisions appear here within a second of being made.",
      "decisions.filter.slot": "Policy", "decisions.filter.outcome": "Outcome", "decisions.filter.plugin": "Version", "decisions.filter.customer": "Customer",
      "decisions.filter.all": "All", "decisions.filter.failed": "Failed (the fallback answered)", "decisions.filter.go": "Show",
      "decisions.col.when": "When", "decisions.col.slot": "Policy", "decisions.col.plugin": "Version", "decisions.col.customer": "Customer",
      "decisions.col.outcome": "Outcome", "decisions.col.used": "Used", "decisions.col.answer": "Answer",
      "decisions.used": "{ms} ms, {fuel} fuel, {mb} MB",
      "decisions.open": "Open", "decisions.detail": "Decision {id}", "decisions.input": "Input, as the plugin saw it", "decisions.result": "Answer",
      "decisions.logs": "What the plugin logged", "decisions.replay": "Replay it against a build: cove plugin replay --merchant {m} --slot {slot} --decision {id} your_plugin.wasm",
      "decisions.too.large": "The input ({bytes} bytes) was too large to keep.",
      "decisions.settings": "What the log keeps", "decisions.rate": "Share of successful decisions kept (%)", "decisions.days": "Days kept", "decisions.rows": "Decisions kept at most",
      "decisions.save": "Save",
      "outcome.ok": "Answered", "outcome.plugin_error": "Refused by the plugin",
    },
    zh: {
      "decisions.nav": "决策日志", "decisions.title": "决策日志",
      "decisions.lead": "显示 {n} 条决策。Cove 会保留每一次失败和兜底，以及其他决策中的 {rate}，保留 {days} 天。",
      "decisions.none": "没有符合条件的决策。决策做出后一秒内会出现在这里。",
      "decisions.filter.slot": "策略", "decisions.filter.outcome": "结果", "decisions.filter.plugin": "版本", "decisions.filter.customer": "客户",
      "decisions.filter.all": "全部", "decisions.filter.failed": "失败（由兜底回答）", "decisions.filter.go": "显示",
      "decisions.col.when": "时间", "decisions.col.slot": "策略", "decisions.col.plugin": "版本", "decisions.col.customer": "客户",
      "decisions.col.outcome": "结果", "decisions.col.used": "资源", "decisions.col.answer": "回答",
      "decisions.used": "{ms} 毫秒，{fuel} 燃料，{mb} MB",
      "decisions.open": "查看", "decisions.detail": "决策 {id}", "decisions.input": "插件看到的输入", "decisions.result": "回答",
      "decisions.logs": "插件日志", "decisions.replay": "用您的构建重放：cove plugin replay --merchant {m} --slot {slot} --decision {id} your_plugin.wasm",
      "decisions.too.large": "输入（{bytes} 字节）过大，未保留。",
      "decisions.settings": "日志保留什么", "decisions.rate": "保留的成功决策比例（%）", "decisions.days": "保留天数", "decisions.rows": "最多保留的决策数",
      "decisions.save": "保存",
      "outcome.ok": "已回答", "outcome.plugin_error": "插件拒绝",
    },
  },
  async render(main) {
    const slot = h("select", { id: "decision-slot" }, h("option", { value: "" }, t("decisions.filter.all")), ...SLOTS.map((s) => h("option", { value: s }, t("slot." + s) == "slot." + s ? s : t("slot." + s))));
    const outcome = h("select", { id: "decision-outcome" }, ...[["", t("decisions.filter.all")], ["ok", t("outcome.ok")], ["plugin_error", t("outcome.plugin_error")], ["failed", t("decisions.filter.failed")]].map(([v, l]) => h("option", { value: v }, l)));
    const plugin = h("input", { type: "text", id: "decision-plugin", placeholder: "fatigue-policy@1.0.0" });
    const customer = h("input", { type: "text", id: "decision-customer" });
    const list = h("div", { "data-decisions": "" });
    const detail = h("div", { "data-decision": "" });
    const outcomeText = (o) => (o == "ok" || o == "plugin_error" ? t("outcome." + o) : o);
    const used = (d) => t("decisions.used", { ms: (d.micros / 1000).toFixed(2), fuel: num(d.usage.fuel), mb: (d.usage.memory_bytes / 1048576).toFixed(1) });
    const open = async (d) => {
      const full = await api("decisions/" + encodeURIComponent(d.id));
      const pre = (v) => h("pre", null, JSON.stringify(v, null, 2));
      detail.replaceChildren(h("h2", null, t("decisions.detail", { id: d.id })),
        h("p", null, when(full.at) + " · " + full.plugin + " · " + outcomeText(full.outcome) + " · " + used(full)),
        h("h3", null, t("decisions.input")), full.input == null ? h("p", null, t("decisions.too.large", { bytes: num(full.input_bytes) })) : pre(full.input),
        h("h3", null, t("decisions.result")), pre(full.result),
        full.logs && full.logs.length ? h("div", null, h("h3", null, t("decisions.logs")), pre(full.logs.map((l) => l.level + ": " + l.message))) : null,
        h("p", { className: "hint" }, t("decisions.replay", { m: session.merchant || "MERCHANT", slot: full.slot, id: full.id })));
      detail.scrollIntoView();
    };
    let settings = null;
    const show = async () => {
      const q = new URLSearchParams();
      if (slot.value) q.set("slot", slot.value);
      if (outcome.value) q.set("outcome", outcome.value);
      if (plugin.value.trim()) q.set("plugin", plugin.value.trim());
      if (customer.value.trim()) q.set("customer", customer.value.trim());
      const r = await api("decisions?" + q);
      settings = r.settings;
      list.replaceChildren(
        h("p", { className: "lead", "data-lead": "" }, t("decisions.lead", { n: num(r.decisions.length), rate: Math.round(r.settings.sample_rate * 1000) / 10 + "%", days: r.settings.retention_days })),
        r.decisions.length ? table(t("decisions.title"), [
          { label: t("decisions.col.when"), value: (d) => when(d.at) },
          { label: t("decisions.col.slot"), value: (d) => (t("slot." + d.slot) == "slot." + d.slot ? d.slot : t("slot." + d.slot)) },
          { label: t("decisions.col.plugin"), value: (d) => d.plugin },
          { label: t("decisions.col.customer"), value: (d) => d.customer || "—" },
          { label: t("decisions.col.outcome"), value: (d) => outcomeText(d.outcome) },
          { label: t("decisions.col.used"), value: used },
          { label: t("decisions.col.answer"), value: (d) => h("button", { type: "button", onclick: () => open(d) }, t("decisions.open")) },
        ], r.decisions) : h("p", null, t("decisions.none")));
    };
    const filters = h("form", { className: "actions", "data-read": "", onsubmit: (e) => { e.preventDefault(); show(); } },
      field(t("decisions.filter.slot"), slot), field(t("decisions.filter.outcome"), outcome), field(t("decisions.filter.plugin"), plugin),
      field(t("decisions.filter.customer"), customer), h("button", { type: "submit" }, t("decisions.filter.go")));
    main.append(h("section", null, filters, list), detail);
    await show();

    const rate = h("input", { type: "number", id: "decision-rate", min: 0, max: 100, step: "any", value: settings.sample_rate * 100 });
    const days = h("input", { type: "number", id: "decision-days", min: 1, max: 90, step: 1, value: settings.retention_days });
    const rows = h("input", { type: "number", id: "decision-rows", min: 100, max: 100000, step: 1, value: settings.max_rows });
    const sv = saver(t("decisions.save"), async () => {
      await api("decisions/settings", { method: "PUT", body: { sample_rate: Number(rate.value) / 100, retention_days: Number(days.value), max_rows: Number(rows.value) } });
      await show();
    });
    main.append(h("section", null, h("h2", null, t("decisions.settings")),
      h("form", { onsubmit: sv.run, "data-log-settings": "" }, field(t("decisions.rate"), rate), field(t("decisions.days"), days), field(t("decisions.rows"), rows), h("div", { className: "actions" }, sv.button, sv.status))));
  },
};
