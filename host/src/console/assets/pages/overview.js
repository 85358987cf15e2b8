// Overview: this week's numbers, each linking to the page that explains it.
import { h, t, api, num, pct, day, chart } from "./ui.js";

export default {
  id: "overview",
  texts: {
    en: {
      "overview.nav": "Overview", "overview.title": "This week",
      "overview.decisions": "Policy decisions", "overview.decisions.sub": "{fallback} answered by the safe fallback",
      "overview.breakers": "{n} policy paused after repeated failures", "overview.answers": "Survey answers",
      "overview.nps": "Net Promoter Score", "overview.nps.sub": "from {n} ratings",
      "overview.missed": "Searches that found nothing", "overview.missed.sub": "Write the articles shoppers look for",
      "overview.helpful": "Articles found helpful", "overview.helpful.sub": "{yes} yes · {no} no · {n} articles",
      "overview.widget": "Storefront widget", "overview.widget.on": "Allowed on {n} site(s)", "overview.widget.off": "Not placed yet: add your shop's address",
      "overview.chart": "Policy decisions per day", "overview.ok": "Answered by the plugin", "overview.fallback": "Safe fallback", "overview.refused": "Refused by the plugin",
      "overview.chart.summary": "{total} decisions in 7 days, {fallback} of them by the safe fallback; busiest day {busiest}.",
      "overview.top": "Most searched without an answer",
      "overview.chart.empty": "No decisions in the last 7 days.",
      "overview.customers": "Customers", "overview.customers.sub": "Import your shop's files to add more",
    },
    zh: {
      "overview.nav": "概览", "overview.title": "本周概况",
      "overview.decisions": "策略决策", "overview.decisions.sub": "其中 {fallback} 次由安全兜底回答",
      "overview.breakers": "{n} 个策略因连续失败已暂停", "overview.answers": "问卷回答",
      "overview.nps": "净推荐值（NPS）", "overview.nps.sub": "基于 {n} 个评分",
      "overview.missed": "无结果的搜索", "overview.missed.sub": "补写顾客在找的文章",
      "overview.helpful": "文章有帮助率", "overview.helpful.sub": "有帮助 {yes} · 没帮助 {no} · 共 {n} 篇",
      "overview.widget": "店铺小部件", "overview.widget.on": "已允许 {n} 个网站", "overview.widget.off": "尚未放置：请添加店铺网址",
      "overview.chart": "每日策略决策", "overview.ok": "由插件回答", "overview.fallback": "安全兜底", "overview.refused": "插件拒绝",
      "overview.chart.summary": "7 天内共 {total} 次决策，其中 {fallback} 次由安全兜底回答；最忙的一天是 {busiest}。",
      "overview.top": "搜索最多但无答案",
      "overview.chart.empty": "最近 7 天没有决策。",
      "overview.customers": "客户", "overview.customers.sub": "导入店铺文件以添加更多客户",
    },
  },
  async render(main) {
    const o = await api("overview");
    const d = o.decisions.days;
    const sum = (k) => d.reduce((s, x) => s + x[k], 0);
    const total = sum("ok") + sum("fallback") + sum("refused");
    const busiest = d.reduce((a, b) => (b.ok + b.fallback + b.refused > a.ok + a.fallback + a.refused ? b : a), d[0]);
    const votes = o.kb.helpful + o.kb.unhelpful;
    const card = (page, label, big, sub) => h("a", { className: "card", href: "#/" + page }, h("span", null, label), h("span", { className: "big" }, big), h("span", { className: "sub" }, sub));
    main.append(...[
      h("div", { className: "cards" },
        card("policies", t("overview.decisions"), num(total),
          o.decisions.breakers_open ? t("overview.breakers", { n: o.decisions.breakers_open }) : t("overview.decisions.sub", { fallback: num(sum("fallback")) })),
        card("surveys", t("overview.answers"), num(o.surveys.answers), ""),
        card("surveys", t("overview.nps"), o.surveys.nps == null ? "—" : num(o.surveys.nps), t("overview.nps.sub", { n: num(o.surveys.ratings) })),
        card("kb", t("overview.missed"), num(o.kb.missed_searches), t("overview.missed.sub")),
        card("kb", t("overview.helpful"), votes ? pct(o.kb.helpful / votes) : "—", t("overview.helpful.sub", { yes: num(o.kb.helpful), no: num(o.kb.unhelpful), n: num(o.kb.articles) })),
        card("customers", t("overview.customers"), num(o.customers.count), t("overview.customers.sub")),
        card("widget", t("overview.widget"), num(o.widget.allowed_origins), o.widget.allowed_origins ? t("overview.widget.on", { n: o.widget.allowed_origins }) : t("overview.widget.off"))),
      h("section", null,
        chart(t("overview.chart"), {
          labels: d.map((x) => day(x.day)), stacked: true,
          series: [
            { label: t("overview.ok"), data: d.map((x) => x.ok) },
            { label: t("overview.fallback"), data: d.map((x) => x.fallback) },
            { label: t("overview.refused"), data: d.map((x) => x.refused) },
          ],
          summary: total ? t("overview.chart.summary", { total: num(total), fallback: num(sum("fallback")), busiest: day(busiest.day) }) : t("overview.chart.empty"),
        })),
      o.kb.top_missed.length ? h("section", null, h("h2", null, t("overview.top")),
        h("ul", null, o.kb.top_missed.map((m) => h("li", null, h("a", { href: "#/kb" }, m.query), " (" + num(m.searches) + ")")))) : null,
    ].filter(Boolean));
  },
};
