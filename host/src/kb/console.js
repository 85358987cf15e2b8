// Knowledge base: articles per locale with a Markdown editor and preview,
// validity windows, helpfulness, the searches that found nothing, and the
// synonyms search uses per language (with a box to try a search).
import { h, t, api, num, pct, when, table, field, saver, chart, failure } from "./ui.js";

const toLocal = (ms) => (ms == null ? "" : new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16));
const fromLocal = (s) => (s ? new Date(s).getTime() : null);

export default {
  id: "kb",
  texts: {
    en: {
      "kb.nav": "Knowledge base", "kb.title": "Knowledge base", "kb.articles": "Articles", "kb.new": "New article",
      "kb.locale": "Language", "kb.all": "All languages", "kb.col.title": "Title", "kb.col.window": "Shown", "kb.col.helpful": "Helpful",
      "kb.col.updated": "Changed", "kb.always": "always", "kb.from": "from {d}", "kb.until": "until {d}",
      "kb.edit": "Edit article", "kb.id": "Article id", "kb.id.hint": "Letters, digits, - or _; it appears in links.",
      "kb.locale.hint": "e.g. en, zh-CN, de", "kb.name": "Title", "kb.tags": "Tags", "kb.tags.hint": "Separated by commas",
      "kb.valid_from": "Shown from", "kb.valid_until": "Shown until", "kb.body": "Text (Markdown)", "kb.preview": "Preview, as shoppers will see it",
      "kb.save": "Save article", "kb.delete": "Delete", "kb.confirm": "Delete this article?", "kb.missed": "Searches that found nothing (30 days)",
      "kb.query": "What shoppers typed", "kb.searches": "Searches", "kb.write": "Write this article",
      "kb.votes": "Helpfulness per article", "kb.votes.yes": "Helpful", "kb.votes.no": "Not helpful",
      "kb.votes.summary": "{n} articles with votes; most helpful: {best}.",
      "kb.syn": "Words shoppers use", "kb.syn.groups": "Synonyms, one group per line",
      "kb.syn.hint": "Words or phrases separated by commas: an article with one of them is also found by the others (e.g. “gift card, voucher, coupon”).",
      "kb.syn.default": "These are Cove's suggestions for this language; saving makes them yours.", "kb.syn.custom": "Your own list.",
      "kb.syn.save": "Save synonyms", "kb.syn.reset": "Restore the suggestions", "kb.try": "Try a search",
      "kb.try.hint": "What a shopper would type; the first articles they would see are shown.", "kb.try.none": "Nothing found.",
    },
    zh: {
      "kb.nav": "知识库", "kb.title": "知识库", "kb.articles": "文章", "kb.new": "新建文章",
      "kb.locale": "语言", "kb.all": "全部语言", "kb.col.title": "标题", "kb.col.window": "展示时间", "kb.col.helpful": "有帮助",
      "kb.col.updated": "修改时间", "kb.always": "一直展示", "kb.from": "自 {d}", "kb.until": "至 {d}",
      "kb.edit": "编辑文章", "kb.id": "文章 ID", "kb.id.hint": "字母、数字、- 或 _，会出现在链接中。",
      "kb.locale.hint": "例如 en、zh-CN、de", "kb.name": "标题", "kb.tags": "标签", "kb.tags.hint": "用逗号分隔",
      "kb.valid_from": "开始展示", "kb.valid_until": "停止展示", "kb.body": "正文（Markdown）", "kb.preview": "预览（顾客看到的样子）",
      "kb.save": "保存文章", "kb.delete": "删除", "kb.confirm": "确定删除这篇文章？", "kb.missed": "无结果的搜索（30 天）",
      "kb.query": "顾客输入的内容", "kb.searches": "搜索次数", "kb.write": "写这篇文章",
      "kb.votes": "各文章的有帮助评价", "kb.votes.yes": "有帮助", "kb.votes.no": "没帮助",
      "kb.votes.summary": "{n} 篇文章收到评价；最有帮助的是：{best}。",
      "kb.syn": "顾客的说法", "kb.syn.groups": "同义词，每行一组",
      "kb.syn.hint": "用逗号分隔的词或短语：含其中一个的文章，用其他词也能搜到（例如“礼品卡, 购物卡, 代金券”）。",
      "kb.syn.default": "这是 Cove 为该语言建议的同义词；保存后即成为你的列表。", "kb.syn.custom": "你自己的列表。",
      "kb.syn.save": "保存同义词", "kb.syn.reset": "恢复建议", "kb.try": "试着搜索",
      "kb.try.hint": "输入顾客会输入的内容，显示他们最先看到的文章。", "kb.try.none": "没有结果。",
    },
  },
  async render(main) {
    const [{ articles }, missed] = await Promise.all([api("articles"), api("missed-searches?days=30")]);
    const editor = h("div");
    const locales = [...new Set(articles.map((a) => a.locale))].sort();
    const filter = h("select", { onchange: () => list.replaceChildren(articleTable()) },
      h("option", { value: "" }, t("kb.all")), locales.map((l) => h("option", { value: l }, l)));
    const windowText = (a) => (a.valid_from == null && a.valid_until == null ? t("kb.always")
      : [a.valid_from != null ? t("kb.from", { d: when(a.valid_from) }) : "", a.valid_until != null ? t("kb.until", { d: when(a.valid_until) }) : ""].join(" "));
    const articleTable = () => table(t("kb.articles"), [
      { label: t("kb.col.title"), value: (a) => h("button", { type: "button", className: "link", onclick: () => edit(a) }, a.title) },
      { label: t("kb.locale"), value: (a) => a.locale },
      { label: t("kb.col.window"), value: windowText },
      { label: t("kb.col.helpful"), value: (a) => (a.helpful + a.unhelpful ? pct(a.helpful / (a.helpful + a.unhelpful)) + " (" + num(a.helpful + a.unhelpful) + ")" : "—") },
      { label: t("kb.col.updated"), value: (a) => when(a.updated_at) },
    ], articles.filter((a) => !filter.value || a.locale == filter.value));
    const list = h("div", null, articleTable());

    const edit = (a, suggested = "") => {
      const isNew = !a;
      a = a || { id: "", locale: locales[0] || "en", title: suggested, tags: [], body: "", valid_from: null, valid_until: null };
      const id = h("input", { value: a.id, required: true, readOnly: !isNew, pattern: "[A-Za-z0-9_\\-]{1,64}" });
      const locale = h("input", { value: a.locale, required: true });
      const title = h("input", { value: a.title, required: true, maxLength: 200 });
      const tags = h("input", { value: a.tags.join(", ") });
      const from = h("input", { type: "datetime-local", value: toLocal(a.valid_from) });
      const until = h("input", { type: "datetime-local", value: toLocal(a.valid_until) });
      const body = h("textarea", { value: a.body, rows: 14 });
      const preview = h("div", { className: "preview", "aria-live": "polite", "data-preview": "article" });
      let timer;
      const refresh = () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          try { preview.innerHTML = (await api("articles/preview", { method: "POST", body: { body: body.value } })).html; } // sanitised by the host
          catch (e) { preview.replaceChildren(failure(e)); }
        }, 250);
      };
      body.addEventListener("input", refresh);
      refresh();
      const s = saver(t("kb.save"), async () => {
        await api("articles/" + encodeURIComponent(id.value.trim()), { method: "PUT", body: {
          locale: locale.value.trim(), title: title.value, body: body.value,
          tags: tags.value.split(",").map((x) => x.trim()).filter(Boolean), valid_from: fromLocal(from.value), valid_until: fromLocal(until.value),
        } });
        setTimeout(() => this.render(main.replaceChildren() || main), 600);
      });
      const del = !isNew && h("button", { type: "button", className: "danger", onclick: async () => {
        if (!confirm(t("kb.confirm"))) return;
        await api("articles/" + encodeURIComponent(a.id), { method: "DELETE" });
        main.replaceChildren();
        this.render(main);
      } }, t("kb.delete"));
      const form = h("form", { onsubmit: s.run },
        h("h2", { tabIndex: -1 }, isNew ? t("kb.new") : t("kb.edit")),
        h("div", { className: "row" }, field(t("kb.id"), id, t("kb.id.hint")), field(t("kb.locale"), locale, t("kb.locale.hint"))),
        field(t("kb.name"), title),
        field(t("kb.tags"), tags, t("kb.tags.hint")),
        h("div", { className: "row" }, field(t("kb.valid_from"), from), field(t("kb.valid_until"), until)),
        h("div", { className: "split" }, field(t("kb.body"), body), h("div", null, h("p", { className: "field" }, h("strong", null, t("kb.preview"))), preview)),
        h("div", { className: "actions" }, s.button, del, s.status));
      editor.replaceChildren(h("section", null, form));
      form.querySelector("h2").focus();
    };

    // Synonyms per language, with a search box to try them as a shopper.
    const synonyms = () => {
      const langs = locales.length ? locales : ["en"];
      const pick = h("select", { id: "kb-syn-locale" }, langs.map((l) => h("option", { value: l }, l)));
      const text = h("textarea", { rows: 8, "data-synonyms": "" });
      const note = h("p", { className: "hint" });
      const load = async () => {
        // A slower answer for a language picked before must not overwrite
        // the one picked now (and then be saved under it).
        const want = pick.value;
        const s = await api("synonyms/" + encodeURIComponent(want));
        if (pick.value != want) return;
        text.value = s.groups.map((g) => g.join(", ")).join("\n");
        note.textContent = t(s.custom ? "kb.syn.custom" : "kb.syn.default");
      };
      pick.onchange = load;
      const s = saver(t("kb.syn.save"), async () => {
        const groups = text.value.split("\n").map((l) => l.split(",").map((w) => w.trim()).filter(Boolean)).filter((g) => g.length);
        await api("synonyms/" + encodeURIComponent(pick.value), { method: "PUT", body: { groups } });
        note.textContent = t("kb.syn.custom");
      });
      const reset = h("button", { type: "button", onclick: async () => {
        await api("synonyms/" + encodeURIComponent(pick.value), { method: "DELETE" });
        await load();
      } }, t("kb.syn.reset"));
      const query = h("input", { type: "search", "data-try": "" });
      const found = h("ol", { "aria-live": "polite", "data-try-results": "" });
      let timer;
      query.oninput = () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const r = await api("search?limit=3&locale=" + encodeURIComponent(pick.value) + "&q=" + encodeURIComponent(query.value));
          found.replaceChildren(...(r.hits.length ? r.hits.map((x) => h("li", { "data-id": x.id }, x.title)) : [h("li", null, t("kb.try.none"))]));
        }, 250);
      };
      load().catch((e) => note.replaceChildren(failure(e)));
      return h("section", null, h("h2", null, t("kb.syn")),
        h("form", { onsubmit: s.run },
          h("div", { className: "actions" }, h("label", { htmlFor: "kb-syn-locale" }, t("kb.locale")), pick),
          field(t("kb.syn.groups"), text, t("kb.syn.hint")), note,
          h("div", { className: "actions" }, s.button, reset, s.status)),
        field(t("kb.try"), query, t("kb.try.hint")), found);
    };

    const voted = articles.filter((a) => a.helpful + a.unhelpful > 0).sort((x, y) => y.helpful + y.unhelpful - (x.helpful + x.unhelpful)).slice(0, 12);
    main.append(...[
      h("section", null,
        h("div", { className: "actions" }, h("label", { htmlFor: "kb-filter" }, t("kb.locale")), Object.assign(filter, { id: "kb-filter" }),
          h("button", { type: "button", className: "primary", onclick: () => edit(null) }, t("kb.new"))),
        list),
      editor,
      synonyms(),
      h("section", null, h("h2", null, t("kb.missed")),
        table(t("kb.missed"), [
          { label: t("kb.query"), value: (m) => m.query },
          { label: t("kb.locale"), value: (m) => m.locale },
          { label: t("kb.searches"), value: (m) => num(m.searches) },
          { label: "", value: (m) => h("button", { type: "button", onclick: () => edit(null, m.query) }, t("kb.write")) },
        ], missed.searches)),
      voted.length ? h("section", null, chart(t("kb.votes"), {
        labels: voted.map((a) => a.title), stacked: true, horizontal: true,
        series: [{ label: t("kb.votes.yes"), data: voted.map((a) => a.helpful) }, { label: t("kb.votes.no"), data: voted.map((a) => a.unhelpful), color: "#c2410c" }],
        summary: t("kb.votes.summary", { n: voted.length, best: voted.slice().sort((x, y) => y.helpful / (y.helpful + y.unhelpful) - x.helpful / (x.helpful + x.unhelpful))[0].title }),
      })) : null,
    ].filter(Boolean));
  },
};
