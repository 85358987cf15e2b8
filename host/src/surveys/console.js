// Surveys: build one (questions, targeting, trigger, frequency) with a
// preview of how the widget shows it, and read its results.
import { h, t, api, num, pct, day, when, table, field, saver, chart, session } from "./ui.js";

const loc = (v, l) => (typeof v == "string" ? v : v ? v[l] || v.en || Object.values(v)[0] || "" : "");

export default {
  id: "surveys",
  needs: ["read", "support"],
  texts: {
    en: {
      "surveys.nav": "Surveys", "surveys.title": "Surveys", "surveys.list": "Your surveys", "surveys.new": "New survey",
      "surveys.col.title": "Survey", "surveys.col.state": "State", "surveys.col.questions": "Questions", "surveys.on": "Showing", "surveys.off": "Paused",
      "surveys.results": "Results", "surveys.edit": "Edit", "surveys.id": "Survey id", "surveys.title.en": "Title (English)", "surveys.title.zh": "Title (Chinese)",
      "surveys.active": "Show it to shoppers", "surveys.questions": "Questions", "surveys.add": "Add a question", "surveys.remove": "Remove question",
      "surveys.q.id": "Question id", "surveys.q.kind": "Kind", "surveys.kind.nps": "0–10: how likely to recommend", "surveys.kind.choice": "One choice", "surveys.kind.text": "Free text",
      "surveys.q.en": "Question (English)", "surveys.q.zh": "Question (Chinese)", "surveys.q.options": "Choices, one per line: id | English | Chinese",
      "surveys.q.required": "Must be answered", "surveys.targeting": "Who sees it", "surveys.paths": "Pages (paths, * matches anything)",
      "surveys.locales": "Languages (empty: all)", "surveys.sample": "Share of visitors asked (%)", "surveys.trigger": "When it appears",
      "surveys.exit": "When the shopper is about to leave", "surveys.seconds": "After seconds on the page", "surveys.scroll": "After scrolling (%)",
      "surveys.cooldown": "Days before the same shopper is asked again", "surveys.save": "Save survey", "surveys.delete": "Delete with its answers",
      "surveys.confirm": "Delete this survey and all its answers?", "surveys.preview": "Preview in the widget", "surveys.send": "Send",
      "surveys.responses": "{n} responses", "surveys.nps": "Net Promoter Score", "surveys.nps.detail": "{p} promoters · {pa} passives · {d} detractors",
      "surveys.trend": "NPS per day", "surveys.trend.summary": "NPS from {first} to {last} over {n} days.", "surveys.spread": "Ratings from 0 to 10",
      "surveys.spread.summary": "Most common rating: {top}; {d} of {n} rated 6 or lower.", "surveys.shares": "Answers to “{q}”",
      "surveys.shares.summary": "Most chosen: {top} ({share}).", "surveys.comments": "Comments", "surveys.csv": "Download all answers (CSV)",
      "surveys.share": "Share a link (works 24 hours)", "surveys.revoke": "Stop every shared link", "surveys.revoked": "Every link shared before now has stopped working.",
      "surveys.count": "Answers", "surveys.text": "Comment", "surveys.at": "When", "surveys.page": "Page",
    },
    zh: {
      "surveys.nav": "问卷", "surveys.title": "问卷", "surveys.list": "我的问卷", "surveys.new": "新建问卷",
      "surveys.col.title": "问卷", "surveys.col.state": "状态", "surveys.col.questions": "题目数", "surveys.on": "展示中", "surveys.off": "已暂停",
      "surveys.results": "结果", "surveys.edit": "编辑", "surveys.id": "问卷 ID", "surveys.title.en": "标题（英文）", "surveys.title.zh": "标题（中文）",
      "surveys.active": "向顾客展示", "surveys.questions": "题目", "surveys.add": "添加题目", "surveys.remove": "删除此题",
      "surveys.q.id": "题目 ID", "surveys.q.kind": "题型", "surveys.kind.nps": "0–10 推荐意愿", "surveys.kind.choice": "单选", "surveys.kind.text": "自由填写",
      "surveys.q.en": "题目（英文）", "surveys.q.zh": "题目（中文）", "surveys.q.options": "选项，每行一个：id | 英文 | 中文",
      "surveys.q.required": "必答", "surveys.targeting": "展示对象", "surveys.paths": "页面路径（* 匹配任意）",
      "surveys.locales": "语言（留空表示全部）", "surveys.sample": "抽样比例（%）", "surveys.trigger": "触发时机",
      "surveys.exit": "顾客准备离开时", "surveys.seconds": "停留若干秒后", "surveys.scroll": "滚动到页面百分比后",
      "surveys.cooldown": "同一顾客再次被询问前的天数", "surveys.save": "保存问卷", "surveys.delete": "删除问卷及其回答",
      "surveys.confirm": "确定删除此问卷及全部回答？", "surveys.preview": "小部件中的预览", "surveys.send": "提交",
      "surveys.responses": "{n} 份回答", "surveys.nps": "净推荐值（NPS）", "surveys.nps.detail": "推荐者 {p} · 中立者 {pa} · 贬损者 {d}",
      "surveys.trend": "每日 NPS", "surveys.trend.summary": "{n} 天内 NPS 从 {first} 变为 {last}。", "surveys.spread": "0–10 评分分布",
      "surveys.spread.summary": "最常见的评分：{top}；{n} 人中有 {d} 人打 6 分或更低。", "surveys.shares": "“{q}” 的回答",
      "surveys.shares.summary": "选择最多：{top}（{share}）。", "surveys.comments": "评论", "surveys.csv": "下载全部回答（CSV）",
      "surveys.share": "分享链接（24 小时有效）", "surveys.revoke": "停用所有已分享的链接", "surveys.revoked": "此前分享的所有链接均已失效。",
      "surveys.count": "回答数", "surveys.text": "评论", "surveys.at": "时间", "surveys.page": "页面",
    },
  },
  async render(main, hash) {
    const { surveys } = await api("surveys");
    const detail = h("div");
    main.append(
      h("section", null,
        h("div", { className: "actions" }, h("button", { type: "button", className: "primary", onclick: () => edit(null) }, t("surveys.new"))),
        table(t("surveys.list"), [
          { label: t("surveys.col.title"), value: (s) => loc(s.survey.title, document.documentElement.lang.slice(0, 2)) },
          { label: t("surveys.col.state"), value: (s) => (s.survey.active ? t("surveys.on") : t("surveys.off")) },
          { label: t("surveys.col.questions"), value: (s) => num(s.survey.questions.length) },
          { label: "", value: (s) => h("span", { className: "actions" },
            h("button", { type: "button", onclick: () => results(s) }, t("surveys.results")),
            h("button", { type: "button", onclick: () => edit(s) }, t("surveys.edit"))) },
        ], surveys)),
      detail);

    const results = async (s) => {
      const r = await api("surveys/" + encodeURIComponent(s.id) + "/results");
      const parts = [h("h2", { tabIndex: -1 }, loc(s.survey.title, "en")), h("p", null, t("surveys.responses", { n: num(r.responses) }),
        " · ", h("a", { href: "/v1/merchants/" + encodeURIComponent(session.merchant) + "/surveys/" + encodeURIComponent(s.id) + "/results.csv", download: s.id + ".csv" }, t("surveys.csv")))];
      // A link for a colleague without a login, and the way to take every
      // such link back.
      const shared = h("p", { role: "status", "data-share": "" });
      parts.push(h("p", { className: "actions" },
        h("button", { type: "button", onclick: async () => {
          const l = await api("surveys/" + encodeURIComponent(s.id) + "/report-link", { method: "POST" });
          shared.replaceChildren(h("a", { href: l.report, target: "_blank", rel: "noopener" }, location.origin + l.report));
        } }, t("surveys.share")),
        h("button", { type: "button", onclick: async () => {
          await api("links/revoke", { method: "POST" });
          shared.textContent = t("surveys.revoked");
        } }, t("surveys.revoke"))), shared);
      for (const q of r.questions) {
        if (q.nps) {
          const n = q.answered;
          parts.push(h("p", null, h("strong", null, t("surveys.nps") + ": "), h("span", { className: "big-inline", "data-nps": q.nps.score ?? "" }, q.nps.score == null ? "—" : num(q.nps.score)),
            " — ", t("surveys.nps.detail", { p: num(q.nps.promoters), pa: num(q.nps.passives), d: num(q.nps.detractors) })));
          if (q.over_time.length) parts.push(chart(t("surveys.trend"), {
            type: "line", labels: q.over_time.map((x) => day(x.day)), y: { min: -100, max: 100, beginAtZero: false },
            series: [{ label: t("surveys.nps"), data: q.over_time.map((x) => x.score) }],
            summary: t("surveys.trend.summary", { first: num(q.over_time[0].score), last: num(q.over_time.at(-1).score), n: q.over_time.length }),
          }));
          const top = q.distribution.indexOf(Math.max(...q.distribution));
          parts.push(chart(t("surveys.spread"), {
            labels: q.distribution.map((_, i) => String(i)),
            // Detractors (0–6), passives (7–8), promoters (9–10).
            series: [{ label: t("surveys.count"), data: q.distribution, colors: q.distribution.map((_, i) => (i <= 6 ? "#c2410c" : i <= 8 ? "#6b7280" : "#0b6e4f")) }],
            summary: t("surveys.spread.summary", { top, d: num(q.nps.detractors), n: num(n) }),
          }));
        } else if (q.choices) {
          const best = q.choices.reduce((a, b) => (b.count > a.count ? b : a), q.choices[0]);
          parts.push(chart(t("surveys.shares", { q: q.prompt }), {
            labels: q.choices.map((c) => c.label), horizontal: true,
            series: [{ label: t("surveys.count"), data: q.choices.map((c) => c.count) }],
            summary: t("surveys.shares.summary", { top: best ? best.label : "—", share: best ? pct(best.share) : "—" }),
          }));
        } else if (q.texts) {
          parts.push(h("h3", null, t("surveys.comments") + ": " + q.prompt), table(t("surveys.comments"), [
            { label: t("surveys.text"), value: (x) => String(x.text) },
            { label: t("surveys.page"), value: (x) => x.page },
            { label: t("surveys.at"), value: (x) => when(x.at) },
          ], q.texts));
        }
      }
      detail.replaceChildren(h("section", { "data-results": s.id }, parts));
      detail.querySelector("h2").focus();
    };

    const edit = (s) => {
      const isNew = !s;
      const v = s ? s.survey : { title: { en: "", zh: "" }, active: true, questions: [{ id: "nps", kind: "nps", prompt: { en: "How likely are you to recommend us to a friend?", zh: "您有多大可能向朋友推荐我们？" }, options: [], required: true }],
        targeting: { paths: ["*"], locales: [], sample_rate: 1 }, trigger: { exit_intent: true, seconds_on_page: null, scroll_depth: null }, cooldown_days: 30 };
      const id = h("input", { value: s ? s.id : "", required: true, readOnly: !isNew, pattern: "[A-Za-z0-9_\\-]{1,64}" });
      const titleEn = h("input", { value: loc(v.title, "en"), required: true });
      const titleZh = h("input", { value: typeof v.title == "object" ? v.title.zh || "" : "" });
      const active = h("input", { type: "checkbox", checked: v.active, id: "sv-active" });
      const qs = h("div");
      const question = (q) => {
        const qid = h("input", { value: q.id, required: true, "data-q": "id" });
        const kind = h("select", { "data-q": "kind" }, ["nps", "choice", "text"].map((k) => h("option", { value: k, selected: q.kind == k }, t("surveys.kind." + k))));
        const en = h("input", { value: loc(q.prompt, "en"), required: true, "data-q": "en" });
        const zh = h("input", { value: typeof q.prompt == "object" ? q.prompt.zh || "" : "", "data-q": "zh" });
        const options = h("textarea", { rows: 3, "data-q": "options", value: (q.options || []).map((o) => [o.id, loc(o.label, "en"), typeof o.label == "object" ? o.label.zh || "" : ""].join(" | ")).join("\n") });
        const required = h("input", { type: "checkbox", checked: q.required, "data-q": "required" });
        const optField = field(t("surveys.q.options"), options);
        const showOptions = () => (optField.hidden = kind.value != "choice");
        kind.addEventListener("change", () => { showOptions(); update(); });
        showOptions();
        const box = h("fieldset", { className: "question" }, h("legend", null, t("surveys.questions")),
          h("div", { className: "row" }, field(t("surveys.q.id"), qid), field(t("surveys.q.kind"), kind)),
          h("div", { className: "row" }, field(t("surveys.q.en"), en), field(t("surveys.q.zh"), zh)), optField,
          h("div", { className: "check" }, required, h("label", { htmlFor: required.id = "rq" + Math.random().toString(36).slice(2) }, t("surveys.q.required"))),
          h("button", { type: "button", className: "danger", onclick: () => { box.remove(); update(); } }, t("surveys.remove")));
        return box;
      };
      v.questions.forEach((q) => qs.append(question(q)));
      const paths = h("input", { value: v.targeting.paths.join(", ") });
      const locales = h("input", { value: v.targeting.locales.join(", ") });
      const sample = h("input", { type: "number", min: 0, max: 100, step: 1, value: Math.round(v.targeting.sample_rate * 100) });
      const exit = h("input", { type: "checkbox", checked: v.trigger.exit_intent, id: "sv-exit" });
      const seconds = h("input", { type: "number", min: 1, value: v.trigger.seconds_on_page ?? "" });
      const scroll = h("input", { type: "number", min: 1, max: 100, value: v.trigger.scroll_depth ?? "" });
      const cooldown = h("input", { type: "number", min: 0, value: v.cooldown_days });
      const list = (x) => x.split(",").map((p) => p.trim()).filter(Boolean);
      const collect = () => ({
        title: titleZh.value.trim() ? { en: titleEn.value, zh: titleZh.value } : titleEn.value,
        active: active.checked,
        questions: [...qs.querySelectorAll("fieldset")].map((b) => {
          const get = (k) => b.querySelector(`[data-q=${k}]`);
          const kind = get("kind").value;
          return {
            id: get("id").value.trim(), kind, required: get("required").checked,
            prompt: get("zh").value.trim() ? { en: get("en").value, zh: get("zh").value } : get("en").value,
            options: kind != "choice" ? [] : get("options").value.split("\n").map((l) => l.split("|").map((x) => x.trim())).filter((p) => p[0])
              .map(([id, en, zh]) => ({ id, label: zh ? { en: en || id, zh } : en || id })),
          };
        }),
        targeting: { paths: list(paths.value), locales: list(locales.value), sample_rate: Math.min(100, Math.max(0, Number(sample.value) || 0)) / 100 },
        trigger: { exit_intent: exit.checked, seconds_on_page: seconds.value ? Number(seconds.value) : null, scroll_depth: scroll.value ? Number(scroll.value) : null },
        cooldown_days: Number(cooldown.value) || 0,
      });
      const previewLang = h("select", { id: "sv-plang", onchange: () => update() }, h("option", { value: "en" }, "English"), h("option", { value: "zh" }, "中文"));
      const preview = h("div", { "data-preview": "survey" });
      const update = () => {
        const d = collect();
        const l = previewLang.value;
        const q = d.questions[0];
        const accent = "#0b6e4f";
        const bar = h("div", { className: "bar" }, loc(d.title, l) || "…");
        bar.style.background = accent;
        const send = h("span", { className: "launch" }, t("surveys.send"));
        send.style.background = accent;
        preview.replaceChildren(h("div", { className: "mock", "aria-label": t("surveys.preview") }, bar,
          q ? h("p", null, loc(q.prompt, l)) : null,
          q && q.kind == "nps" ? h("div", { className: "scale" }, [...Array(11).keys()].map((i) => h("span", null, String(i)))) : null,
          q && q.kind == "choice" ? h("ul", null, q.options.map((o) => h("li", null, loc(o.label, l)))) : null,
          q && q.kind == "text" ? h("div", { className: "preview" }) : null, send));
      };
      const s2 = saver(t("surveys.save"), async () => {
        await api("surveys/" + encodeURIComponent(id.value.trim()), { method: "PUT", body: collect() });
        setTimeout(() => { main.replaceChildren(); this.render(main); }, 600);
      });
      const form = h("form", { onsubmit: s2.run, oninput: () => update() },
        h("h2", { tabIndex: -1 }, isNew ? t("surveys.new") : t("surveys.edit")),
        h("div", { className: "split" },
          h("div", null,
            field(t("surveys.id"), id),
            h("div", { className: "row" }, field(t("surveys.title.en"), titleEn), field(t("surveys.title.zh"), titleZh)),
            h("div", { className: "check" }, active, h("label", { htmlFor: "sv-active" }, t("surveys.active"))),
            h("h3", null, t("surveys.questions")), qs,
            h("button", { type: "button", onclick: () => { qs.append(question({ id: "q" + (qs.children.length + 1), kind: "choice", prompt: "", options: [], required: false })); update(); } }, t("surveys.add")),
            h("h3", null, t("surveys.targeting")),
            field(t("surveys.paths"), paths), h("div", { className: "row" }, field(t("surveys.locales"), locales), field(t("surveys.sample"), sample)),
            h("h3", null, t("surveys.trigger")),
            h("div", { className: "check" }, exit, h("label", { htmlFor: "sv-exit" }, t("surveys.exit"))),
            h("div", { className: "row" }, field(t("surveys.seconds"), seconds), field(t("surveys.scroll"), scroll)),
            field(t("surveys.cooldown"), cooldown)),
          h("div", null, h("h3", null, t("surveys.preview")), field("", previewLang), preview)),
        h("div", { className: "actions" }, s2.button,
          !isNew && h("button", { type: "button", className: "danger", onclick: async () => {
            if (!confirm(t("surveys.confirm"))) return;
            await api("surveys/" + encodeURIComponent(s.id), { method: "DELETE" });
            main.replaceChildren();
            this.render(main);
          } }, t("surveys.delete")), s2.status));
      previewLang.previousElementSibling.textContent = t("surveys.preview") + ": " + t("kb.locale");
      update();
      detail.replaceChildren(h("section", null, form));
      form.querySelector("h2").focus();
    };
  },
};
