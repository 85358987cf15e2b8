// Policies: which plugin version serves each slot, its settings (a form
// from the plugin's own description, checked as the merchant types and
// then by the plugin itself; a text box for a plugin of an older
// contract), the settings in force in words, decisions and failures over
// time, the breaker, a new version tried as a shadow then given a share
// of customers (a canary), and who changed what.
import { h, t, api, num, day, when, table, field, saver, chart, lang } from "./ui.js";

const DAY = 86400000;

export default {
  id: "policies",
  writes: ["policies"],
  texts: {
    en: {
      "policies.nav": "Policies", "policies.title": "Policies", "policies.slots": "What serves each policy",
      "policies.slot": "Policy", "policies.plugin": "Plugin", "policies.contract": "Contract", "policies.breaker": "State",
      "policies.open": "Paused: failing, the safe fallback answers", "policies.closed": "Running", "policies.unbound": "No plugin: the safe fallback answers",
      "policies.config": "Settings of {slot}", "policies.config.hint": "One per line: name = value. The plugin checks them before they apply.",
      "policies.save": "Apply settings", "policies.calls": "Decisions of {slot} per day", "policies.calls.summary": "{total} decisions in 7 days: {ok} by the plugin, {failed} by the safe fallback.",
      "policies.failures": "Failures by kind", "policies.kind": "Kind", "policies.count": "Decisions", "policies.audit": "Changes",
      "policies.when": "When", "policies.who": "Who", "policies.what": "What", "policies.from": "Before", "policies.to": "After",
      "slot.fatigue-policy": "Contact fatigue", "slot.rfm-scorer": "Customer value (RFM)", "slot.allocator": "Experiments", "slot.return-flow": "Returns", "slot.channel-chooser": "Channel choice",
      "slot.keys": "API keys", "slot.links": "Shared links", "slot.sms-provider": "SMS provider", "slot.members": "Team",
      "policies.filter.who": "Who", "policies.filter.what": "What", "policies.filter.all": "Everyone / everything",
      "outcome.ok": "Answered by the plugin", "outcome.plugin_error": "Refused by the plugin",
      "settings.default": "default: {value}", "settings.off": "off unless set", "settings.example": "For example: {example}",
      "settings.add": "Add", "settings.part": "Which one ({part})", "settings.remove": "Remove",
      "settings.yes": "yes", "settings.no": "no", "settings.other": "Other settings (name = value, one per line)",
      "settings.bounds": "from {min} to {max}", "settings.in.force": "In force now", "settings.set": "{value} (set by you)",
      "settings.unset": "{value} (default)", "settings.none": "not set",
      "policies.publisher": "Publisher", "policies.signed": "signed", "policies.unsigned": "not signed",
      "policies.revoked": "key revoked: keeps running, cannot be bound again",
      "policies.revoked.warning": "The publisher of {plugin} had its key revoked. It keeps running for now; ask your operator to bind another version.",
      "try.title": "Try a new version", "shadow.title": "See what it would decide", "shadow.plugin": "Version to try (name@version)",
      "shadow.hint": "It sees every decision too, after today's version has answered, and only its answers are compared: nothing changes for your customers.",
      "shadow.start": "Start trying", "shadow.stop": "Stop trying", "shadow.changes": "Where it would decide differently",
      "canary.title": "Give it a share of customers", "canary.plugin": "Version (name@version)",
      "canary.hint": "It answers for a share of your customers, always the same ones, raised step by step. Cove takes it back by itself if it fails more, or answers differently, than the bounds allow.",
      "canary.steps": "Shares, in percent", "canary.steps.hint": "Past the last step it answers for everyone.",
      "canary.every": "Raise it every … minutes", "canary.every.hint": "Leave empty to raise it yourself.",
      "canary.fail": "More failures allowed (points)", "canary.shift": "Answers may move by (points)",
      "canary.start": "Start the canary", "canary.advance": "Raise to {share}%", "canary.promote": "Make it live for everyone",
      "canary.rollback": "Roll back now", "canary.chart": "{candidate} against {live}: share of calls (%)",
      "canary.failures": "failures", "canary.history": "History", "canary.action": "Step",
    },
    zh: {
      "policies.nav": "策略", "policies.title": "策略", "policies.slots": "各策略当前使用的插件",
      "policies.slot": "策略", "policies.plugin": "插件", "policies.contract": "接口版本", "policies.breaker": "状态",
      "policies.open": "已暂停：连续失败，由安全兜底回答", "policies.closed": "运行中", "policies.unbound": "无插件：由安全兜底回答",
      "policies.config": "{slot} 的设置", "policies.config.hint": "每行一项：名称 = 值。插件会先检查，通过后才生效。",
      "policies.save": "应用设置", "policies.calls": "{slot} 每日决策", "policies.calls.summary": "7 天内共 {total} 次决策：插件回答 {ok} 次，安全兜底 {failed} 次。",
      "policies.failures": "按类型统计的失败", "policies.kind": "类型", "policies.count": "次数", "policies.audit": "变更记录",
      "policies.when": "时间", "policies.who": "操作人", "policies.what": "操作", "policies.from": "之前", "policies.to": "之后",
      "slot.fatigue-policy": "联系频率控制", "slot.rfm-scorer": "客户价值（RFM）", "slot.allocator": "实验分流", "slot.return-flow": "退货流程", "slot.channel-chooser": "渠道选择",
      "slot.keys": "API 密钥", "slot.links": "分享链接", "slot.sms-provider": "短信服务商", "slot.members": "团队",
      "policies.filter.who": "操作人", "policies.filter.what": "对象", "policies.filter.all": "全部",
      "outcome.ok": "由插件回答", "outcome.plugin_error": "插件拒绝",
      "settings.default": "默认：{value}", "settings.off": "未设置时关闭", "settings.example": "例如：{example}",
      "settings.add": "添加", "settings.part": "哪一个（{part}）", "settings.remove": "删除",
      "settings.yes": "是", "settings.no": "否", "settings.other": "其他设置（名称 = 值，每行一项）",
      "settings.bounds": "{min} 至 {max}", "settings.in.force": "当前生效", "settings.set": "{value}（您设置的）",
      "settings.unset": "{value}（默认）", "settings.none": "未设置",
      "policies.publisher": "发布者", "policies.signed": "已签名", "policies.unsigned": "未签名",
      "policies.revoked": "密钥已吊销：继续运行，但不能再次绑定",
      "policies.revoked.warning": "{plugin} 的发布者密钥已被吊销。它暂时继续运行；请联系运营方绑定其他版本。",
      "try.title": "试用新版本", "shadow.title": "看看它会如何决定", "shadow.plugin": "要试用的版本（名称@版本）",
      "shadow.hint": "它也会看到每一次决策（在当前版本回答之后），只比较它的回答：不会影响您的客户。",
      "shadow.start": "开始试用", "shadow.stop": "停止试用", "shadow.changes": "它会做出不同决定的地方",
      "canary.title": "让一部分客户使用新版本", "canary.plugin": "版本（名称@版本）",
      "canary.hint": "它为一部分客户（始终是同一批）作出决定，比例逐步提高。如果它失败更多，或回答的分布超出允许范围，Cove 会自动撤回。",
      "canary.steps": "各步比例（%）", "canary.steps.hint": "最后一步之后，它将为所有客户作出决定。",
      "canary.every": "每隔多少分钟提高一步", "canary.every.hint": "留空则由您手动提高。",
      "canary.fail": "允许多出的失败率（百分点）", "canary.shift": "回答分布允许变化（百分点）",
      "canary.start": "开始灰度发布", "canary.advance": "提高到 {share}%", "canary.promote": "对所有客户生效",
      "canary.rollback": "立即撤回", "canary.chart": "{candidate} 与 {live} 对比：调用占比（%）",
      "canary.failures": "失败", "canary.history": "历史", "canary.action": "步骤",
    },
  },
  async render(main) {
    const [{ slots }, stats, audit] = await Promise.all([api("slots"), api("stats?days=7"), api("audit")]);
    // A slot's or a changed subject's name (`articles`, `widget`…).
    const name = (slot) => (t("slot." + slot) == "slot." + slot ? slot : t("slot." + slot));
    const now = Date.now();
    const start = now - (now % DAY) - 6 * DAY;
    const days = [...Array(7).keys()].map((i) => start + i * DAY);

    main.append(h("section", null, table(t("policies.slots"), [
      { label: t("policies.slot"), value: (s) => name(s.slot) },
      { label: t("policies.plugin"), value: (s) => (s.plugin ? s.plugin + "@" + s.version : "—") },
      { label: t("policies.contract"), value: (s) => s.contract || "—" },
      { label: t("policies.publisher"), value: (s) => (!s.plugin ? "—" : s.publisher + " · " + t(s.publisher_revoked ? "policies.revoked" : s.signed ? "policies.signed" : "policies.unsigned")) },
      { label: t("policies.breaker"), value: (s) => (!s.plugin ? t("policies.unbound") : s.breaker == "open" ? t("policies.open") : t("policies.closed")) },
    ], slots)));

    for (const s of slots.filter((x) => x.publisher_revoked)) {
      main.append(h("p", { role: "alert", className: "error", "data-revoked": s.slot }, t("policies.revoked.warning", { plugin: s.plugin + "@" + s.version })));
    }
    for (const s of slots.filter((x) => x.plugin)) {
      const mine = stats.filter((b) => b.slot == s.slot);
      const outcomes = [...new Set(mine.map((b) => b.outcome))].sort((a, b) => (a == "ok" ? -1 : b == "ok" ? 1 : a.localeCompare(b)));
      const series = outcomes.map((o) => ({
        label: o == "ok" || o == "plugin_error" ? t("outcome." + o) : o,
        color: o == "ok" ? "#0b6e4f" : undefined,
        data: days.map((d) => mine.filter((b) => b.outcome == o && b.hour >= d && b.hour < d + DAY).reduce((n, b) => n + b.calls, 0)),
      }));
      const total = mine.reduce((n, b) => n + b.calls, 0);
      const ok = mine.filter((b) => b.outcome == "ok").reduce((n, b) => n + b.calls, 0);
      const failed = mine.filter((b) => b.outcome != "ok" && b.outcome != "plugin_error").reduce((n, b) => n + b.calls, 0);
      const described = await api("slots/" + s.slot + "/settings").catch(() => ({ described: false, settings: [] }));
      const form = described.described && described.settings.length ? settingsForm(described.settings, s.config || {}) : null;
      const text = h("textarea", { rows: 5, value: Object.entries(form ? form.unknown : s.config || {}).map(([k, v]) => k + " = " + v).join("\n") });
      const sv = saver(t("policies.save"), async () => {
        const config = form ? form.read() : {};
        for (const line of text.value.split("\n")) {
          const at = line.indexOf("=");
          if (line.trim() && at < 0) throw new Error(line + ": name = value");
          if (line.trim()) config[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
        await api("slots/" + s.slot + "/config", { method: "PUT", body: { config } });
      });
      main.append(h("section", { "data-slot": s.slot },
        h("h2", null, name(s.slot) + " · " + s.plugin + "@" + s.version),
        chart(t("policies.calls", { slot: name(s.slot) }), {
          labels: days.map(day), stacked: true, series: series.length ? series : [{ label: t("outcome.ok"), data: days.map(() => 0) }],
          summary: t("policies.calls.summary", { total: num(total), ok: num(ok), failed: num(failed) }),
        }),
        await trySection(s),
        form ? form.inForce : null,
        form
          ? h("form", { onsubmit: sv.run, "data-settings": "" }, h("h3", null, t("policies.config", { slot: name(s.slot) })), form.fields,
              h("details", null, h("summary", null, t("settings.other")), field(t("settings.other"), text)), h("div", { className: "actions" }, sv.button, sv.status))
          : h("form", { onsubmit: sv.run }, field(t("policies.config", { slot: name(s.slot) }), text, t("policies.config.hint")), h("div", { className: "actions" }, sv.button, sv.status))));
    }

    const cfg = (c) => (c && Object.keys(c).length ? Object.entries(c).map(([k, v]) => k + "=" + v).join(", ") : "");
    const columns = [
      { label: t("policies.when"), value: (e) => when(e.at) },
      { label: t("policies.slot"), value: (e) => name(e.slot) },
      { label: t("policies.who"), value: (e) => e.actor },
      { label: t("policies.what"), value: (e) => e.action },
      { label: t("policies.from"), value: (e) => [e.from, cfg(e.from_config)].filter(Boolean).join(" ") || "—" },
      { label: t("policies.to"), value: (e) => [e.to, cfg(e.to_config)].filter(Boolean).join(" ") || "—" },
    ];
    // Filters: who made the change, and what it changed.
    const options = (values) => [h("option", { value: "" }, t("policies.filter.all")), ...[...new Set(values)].sort().map((v) => h("option", { value: v }, v))];
    const who = h("select", { id: "audit-who" }, options(audit.events.map((e) => e.actor)));
    const what = h("select", { id: "audit-what" }, options(audit.events.map((e) => e.slot)));
    const box = h("div", { "data-audit": "" });
    const show = () => box.replaceChildren(table(t("policies.audit"), columns,
      audit.events.filter((e) => (!who.value || e.actor == who.value) && (!what.value || e.slot == what.value)).slice(0, 100)));
    who.onchange = what.onchange = show;
    show();
    main.append(h("section", null,
      h("div", { className: "actions", "data-read": "" }, field(t("policies.filter.who"), who), field(t("policies.filter.what"), what)), box));
  },
};

// The text of a setting in the console's language.
const described = (d) => (lang == "zh" ? d["description-zh"] : d["description-en"]);
// A pattern key (`window.*`, `tier.*.extra-days`) as a regular expression.
const patternOf = (key) => new RegExp("^" + key.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("(.+)") + "$");
// The description a config key falls under: its own, else the most
// specific pattern.
const describedBy = (settings, key) => settings.find((d) => d.key == key)
  || settings.filter((d) => d.key.includes("*") && patternOf(d.key).test(key)).sort((a, b) => b.key.length - a.key.length)[0];

// One value's input, checked by the browser as the merchant types: bounds
// for numbers, the choices, the plugin's pattern for text.
const input = (d, value) => {
  const kind = d.kind, def = d["default-value"];
  const hint = def == null ? t("settings.off") : t("settings.default", { value: def });
  if (kind == "flag" || kind.choice) {
    const values = kind == "flag" ? [["true", t("settings.yes")], ["false", t("settings.no")]] : kind.choice.map((c) => [c, c]);
    return h("select", null, h("option", { value: "" }, hint), ...values.map(([v, label]) => h("option", { value: v, selected: v == value }, label)));
  }
  if (kind.integer || kind.number) {
    const b = kind.integer || kind.number;
    const el = h("input", { type: "number", min: b.min, max: b.max, step: kind.integer ? 1 : "any", placeholder: hint, value: value ?? "" });
    el.title = t("settings.bounds", { min: b.min, max: b.max });
    return el;
  }
  const el = h("input", { type: "text", placeholder: hint, value: value ?? "" });
  if (kind.text) el.pattern = kind.text;
  return el;
};

// The form of a plugin's described settings: a field per plain key, rows
// for each pattern (what the merchant set, and "Add"), the settings in
// force in words, and what the description does not cover (kept as text).
const settingsForm = (settings, config) => {
  const rows = [];
  const unknown = {};
  const taken = new Set();
  for (const [k, v] of Object.entries(config)) if (!describedBy(settings, k)) unknown[k] = v;
  const fields = h("div", { className: "settings" });
  for (const d of settings) {
    const about = described(d) + " " + t("settings.example", { example: d.example });
    if (!d.key.includes("*")) {
      const el = input(d, config[d.key]);
      el.dataset.key = d.key;
      rows.push(() => [d.key, el.value.trim()]);
      taken.add(d.key);
      fields.append(field(d.key, el, about));
      continue;
    }
    const list = h("div", { className: "pattern", "data-pattern": d.key });
    const add = (part, value) => {
      const which = h("input", { type: "text", placeholder: d.part, value: part || "", "aria-label": t("settings.part", { part: d.part }) });
      const el = input(d, value);
      el.setAttribute("aria-label", d.key);
      const row = h("div", { className: "actions" }, which, el);
      const remove = h("button", { type: "button", onclick: () => { row.remove(); read.gone = true; } }, t("settings.remove"));
      row.append(remove);
      const read = () => (read.gone || !which.value.trim() ? null : [d.key.replace("*", which.value.trim()), el.value.trim()]);
      rows.push(read);
      list.append(row);
    };
    for (const [k, v] of Object.entries(config)) {
      const m = k.match(patternOf(d.key));
      if (m && describedBy(settings, k) == d && !taken.has(k)) { taken.add(k); add(m[1], v); }
    }
    fields.append(h("fieldset", null, h("legend", null, d.key), h("p", { className: "hint" }, about), list,
      h("button", { type: "button", onclick: () => add("", "") }, t("settings.add") + " " + d.key)));
  }
  // What applies now, in words: every plain key and every pattern entry set.
  const inForce = h("section", { "data-in-force": "" }, h("h3", null, t("settings.in.force")),
    h("ul", null, ...settings.flatMap((d) => {
      if (d.key.includes("*")) return Object.entries(config).filter(([k]) => describedBy(settings, k) == d).map(([k, v]) => h("li", null, described(d) + " — " + k + ": " + t("settings.set", { value: v })));
      const set = config[d.key];
      const value = set != null ? t("settings.set", { value: set }) : d["default-value"] != null ? t("settings.unset", { value: d["default-value"] }) : t("settings.none");
      return [h("li", null, described(d) + " — " + d.key + ": " + value)];
    })));
  const read = () => {
    const out = {};
    for (const r of rows) {
      const kv = r();
      if (kv && kv[1] !== "") out[kv[0]] = kv[1];
    }
    return out;
  };
  return { fields, inForce, unknown, read };
};

// Try a new version, folded away unless one is being tried: first as a
// shadow, then (for slots decided per customer) as a canary.
const trySection = async (s) => {
  const shadow = await shadowSection(s);
  const canary = s.canary_units ? await canarySection(s) : null;
  return h("details", { "data-try": s.slot, open: !!(shadow.dataset.active || (canary && canary.dataset.active)) },
    h("summary", null, t("try.title")), shadow, canary);
};

// Try a new version: a candidate shadows the slot; its report in a
// sentence, and a chart of where it would decide differently.
const shadowSection = async (s) => {
  const box = h("section", { "data-shadow": s.slot });
  const report = await api("slots/" + s.slot + "/shadow").catch(() => null);
  const plugin = h("input", { type: "text", id: "shadow-" + s.slot, placeholder: s.plugin + "@…" });
  const redraw = async () => box.replaceWith(await shadowSection(s));
  const start = saver(t("shadow.start"), async () => {
    await api("slots/" + s.slot + "/shadow", { method: "PUT", body: { plugin: plugin.value.trim() } });
    await redraw();
  });
  box.append(h("h3", null, t("shadow.title")));
  if (report) {
    box.dataset.active = "true";
    box.append(h("p", { className: "lead", "data-shadow-summary": "" }, report.summary));
    const changes = Object.entries(report.stats.changes);
    if (changes.length)
      box.append(chart(t("shadow.changes"), {
        labels: changes.map(([k]) => k), horizontal: true,
        series: [{ label: t("shadow.changes"), data: changes.map(([, n]) => n) }],
        summary: report.summary,
      }));
    const stop = saver(t("shadow.stop"), async () => {
      await api("slots/" + s.slot + "/shadow", { method: "DELETE" });
      await redraw();
    });
    box.append(h("form", { onsubmit: stop.run }, h("div", { className: "actions" }, stop.button, stop.status)));
  } else {
    box.append(h("form", { onsubmit: start.run, "data-shadow-start": "" }, field(t("shadow.plugin"), plugin, t("shadow.hint")), h("div", { className: "actions" }, start.button, start.status)));
  }
  return box;
};

// Give it a share of customers: a canary raised in steps, its analysis
// as a chart (failures and each kind of answer, both versions), its
// history, and the buttons to raise, promote or roll it back.
const canarySection = async (s) => {
  const box = h("section", { "data-canary": s.slot });
  const report = await api("slots/" + s.slot + "/canary").catch(() => null);
  const redraw = async () => box.replaceWith(await canarySection(s));
  const post = (what) => saver(t(what == "rollback" ? "canary.rollback" : "canary.advance", { share: "" }), async () => {
    await api("slots/" + s.slot + "/canary/" + what, { method: "POST" });
    await redraw();
  });
  box.append(h("h3", null, t("canary.title")));
  if (report) {
    box.append(h("p", { className: "lead", role: report.state == "rolled_back" ? "alert" : null, "data-canary-summary": report.state }, report.summary));
    const pct = (x) => Math.round(1000 * x) / 10;
    box.append(chart(t("canary.chart", { candidate: report.candidate, live: report.live }), {
      labels: report.checks.map((c) => (c.what == "failures" ? t("canary.failures") : c.what.replace(/^answer /, ""))),
      series: [
        { label: report.live, data: report.checks.map((c) => pct(c.live)) },
        { label: report.candidate, data: report.checks.map((c) => pct(c.candidate)) },
      ],
      summary: report.summary,
    }));
    if (report.events.length)
      box.append(h("div", { "data-canary-history": "" }, table(t("canary.history"), [
        { label: t("policies.when"), value: (e) => when(e.at) },
        { label: t("canary.action"), value: (e) => e.action + (e.detail.share ? " · " + e.detail.share + "%" : "") },
        { label: t("policies.who"), value: (e) => e.actor },
      ], report.events)));
  }
  if (report && report.state == "running") {
    box.dataset.active = "true";
    const last = report.step + 1 >= report.steps.length;
    const up = post("advance");
    up.button.textContent = last ? t("canary.promote") : t("canary.advance", { share: report.steps[report.step + 1] });
    const back = post("rollback");
    back.button.className = "";
    box.append(h("form", { onsubmit: up.run, "data-canary-advance": "" }, h("div", { className: "actions" }, up.button, up.status)));
    box.append(h("form", { onsubmit: back.run, "data-canary-rollback": "" }, h("div", { className: "actions" }, back.button, back.status)));
    return box;
  }
  const plugin = h("input", { type: "text", id: "canary-" + s.slot, placeholder: s.plugin + "@…" });
  const steps = h("input", { type: "text", id: "canary-steps-" + s.slot, value: "1, 5, 25", pattern: "\\s*[0-9.]+(\\s*,\\s*[0-9.]+)*\\s*" });
  const every = h("input", { type: "number", id: "canary-every-" + s.slot, min: 1, max: 10080 });
  const fail = h("input", { type: "number", id: "canary-fail-" + s.slot, min: 0.1, max: 100, step: 0.1, value: 1 });
  const shift = h("input", { type: "number", id: "canary-shift-" + s.slot, min: 0.1, max: 100, step: 0.1, value: 10 });
  const start = saver(t("canary.start"), async () => {
    const body = {
      plugin: plugin.value.trim(),
      steps: steps.value.split(",").map((x) => Number(x.trim())),
      max_failure_rise: Number(fail.value) / 100,
      max_answer_shift: Number(shift.value) / 100,
    };
    if (every.value) body.every_minutes = Number(every.value);
    await api("slots/" + s.slot + "/canary", { method: "PUT", body });
    await redraw();
  });
  box.append(h("form", { onsubmit: start.run, "data-canary-start": "" },
    field(t("canary.plugin"), plugin, t("canary.hint")),
    field(t("canary.steps"), steps, t("canary.steps.hint")),
    field(t("canary.every"), every, t("canary.every.hint")),
    field(t("canary.fail"), fail), field(t("canary.shift"), shift),
    h("div", { className: "actions" }, start.button, start.status)));
  return box;
};
