// Storefront widget: theme, texts per language, the sites allowed to use
// it, and the tag to paste into the shop, with a preview.
import { h, t, api, field, saver, inkOn, contrast } from "./ui.js";

const KEYS = ["launcher", "title", "placeholder", "empty", "helpful", "yes", "no", "thanks", "close", "send", "back"];

export default {
  id: "widget",
  texts: {
    en: {
      "widget.nav": "Storefront widget", "widget.title": "Storefront widget", "widget.tag": "Paste this tag into your shop's pages",
      "widget.tag.hint": "Put it before </head> or at the end of <body>, on every page where shoppers should find help.",
      "widget.copy": "Copy the tag", "widget.copied": "Copied.", "widget.origins": "Your shop's addresses",
      "widget.origins.hint": "One per line, like https://shop.example — the widget runs only there.",
      "widget.accent": "Accent colour", "widget.accent.pale": "This colour stands out from a white page only {r}:1 (3:1 is the minimum for a button): shoppers may miss the launcher. A darker shade works better.",
      "widget.accent.dark": "This colour stands out from a dark page only {r}:1 (3:1 is the minimum for a button): on dark themes shoppers may miss the launcher.", "widget.position": "Launcher position", "widget.right": "Bottom right", "widget.left": "Bottom left",
      "widget.default_locale": "Language when the page's has no articles", "widget.texts": "Texts", "widget.texts.hint": "Leave empty to keep Cove's wording.",
      "widget.text.launcher": "Launcher button", "widget.text.title": "Dialog title", "widget.text.placeholder": "Search box hint",
      "widget.text.empty": "No results", "widget.text.helpful": "Helpfulness question", "widget.text.yes": "Yes", "widget.text.no": "No",
      "widget.text.thanks": "Thanks", "widget.text.close": "Close", "widget.text.send": "Send", "widget.text.back": "Back",
      "widget.save": "Save the widget", "widget.preview": "Preview", "widget.text.locale": "Texts for language",
    },
    zh: {
      "widget.nav": "店铺小部件", "widget.title": "店铺小部件", "widget.tag": "将此代码粘贴到店铺页面中",
      "widget.tag.hint": "放在 </head> 之前或 <body> 末尾，所有需要帮助入口的页面都要放。",
      "widget.copy": "复制代码", "widget.copied": "已复制。", "widget.origins": "店铺网址",
      "widget.origins.hint": "每行一个，例如 https://shop.example——小部件只在这些网站运行。",
      "widget.accent": "主题色", "widget.accent.pale": "该颜色与白色页面的对比度只有 {r}:1（按钮至少需要 3:1），顾客可能注意不到按钮。深一些的颜色效果更好。",
      "widget.accent.dark": "该颜色与深色页面的对比度只有 {r}:1（按钮至少需要 3:1），在深色主题上顾客可能注意不到按钮。", "widget.position": "按钮位置", "widget.right": "右下角", "widget.left": "左下角",
      "widget.default_locale": "页面语言没有文章时使用的语言", "widget.texts": "文案", "widget.texts.hint": "留空则使用 Cove 默认文案。",
      "widget.text.launcher": "入口按钮", "widget.text.title": "对话框标题", "widget.text.placeholder": "搜索框提示",
      "widget.text.empty": "无结果", "widget.text.helpful": "是否有帮助的提问", "widget.text.yes": "是", "widget.text.no": "否",
      "widget.text.thanks": "感谢", "widget.text.close": "关闭", "widget.text.send": "提交", "widget.text.back": "返回",
      "widget.save": "保存小部件设置", "widget.preview": "预览", "widget.text.locale": "文案语言",
    },
  },
  async render(main) {
    const { settings, script_tag } = await api("widget");
    const tag = script_tag.replace("https://YOUR-COVE-HOST", location.origin);
    const copied = h("span", { role: "status" });
    const origins = h("textarea", { rows: 3, value: settings.allowed_origins.join("\n") });
    const accent = h("input", { type: "color", value: settings.accent });
    const position = h("select", null, ["right", "left"].map((p) => h("option", { value: p, selected: settings.position == p }, t("widget." + p))));
    const defaultLocale = h("input", { value: settings.default_locale });
    const texts = structuredClone(settings.texts || {});
    const textLocale = h("select", { id: "wg-tl" }, ["en", "zh", "de", "fr", "es", "ja"].map((l) => h("option", { value: l }, l)));
    const inputs = Object.fromEntries(KEYS.map((k) => [k, h("input", { "data-key": k })]));
    const fill = () => KEYS.forEach((k) => (inputs[k].value = (texts[textLocale.value] || {})[k] || ""));
    const keep = () => {
      const l = textLocale.value;
      texts[l] = Object.fromEntries(KEYS.filter((k) => inputs[k].value.trim()).map((k) => [k, inputs[k].value.trim()]));
      if (!Object.keys(texts[l]).length) delete texts[l];
    };
    let shown = textLocale.value;
    textLocale.addEventListener("focus", () => (shown = textLocale.value));
    textLocale.addEventListener("change", () => { const now = textLocale.value; textLocale.value = shown; keep(); textLocale.value = now; shown = now; fill(); update(); });
    fill();
    const preview = h("div", { "data-preview": "widget" });
    const warning = h("p", { className: "hint", role: "status", "data-accent-warning": "" });
    const update = () => {
      const l = textLocale.value;
      const word = (k, fallback) => (inputs[k].value.trim() || ((texts[l] || {})[k]) || fallback);
      const bar = h("div", { className: "bar" }, word("title", "Help & FAQ"));
      const launch = h("span", { className: "launch" }, word("launcher", "Help"));
      bar.style.background = launch.style.background = accent.value;
      bar.style.color = launch.style.color = inkOn(accent.value);
      // The text on the accent always reads (black or white, 4.5:1 or more);
      // the launcher itself needs 3:1 against the page around it.
      const onWhite = contrast(accent.value, "#ffffff"), onDark = contrast(accent.value, "#111111");
      warning.textContent = onWhite < 3 ? t("widget.accent.pale", { r: onWhite.toFixed(1) }) : onDark < 3 ? t("widget.accent.dark", { r: onDark.toFixed(1) }) : "";
      const box = h("div", { className: "mock" }, bar, h("p", { className: "muted" }, word("placeholder", "Type a question…")), h("p", null, word("helpful", "Was this helpful?")));
      launch.style.float = position.value == "left" ? "left" : "right";
      preview.replaceChildren(box, launch);
    };
    const s = saver(t("widget.save"), async () => {
      keep();
      await api("widget", { method: "PUT", body: {
        allowed_origins: origins.value.split(/\s+/).map((o) => o.trim().replace(/\/$/, "")).filter(Boolean),
        default_locale: defaultLocale.value.trim() || "en", accent: accent.value, position: position.value, texts,
      } });
    });
    const form = h("form", { onsubmit: s.run, oninput: () => update() },
      field(t("widget.origins"), origins, t("widget.origins.hint")),
      h("div", { className: "split" },
        h("div", null,
          h("div", { className: "row" }, field(t("widget.accent"), accent), field(t("widget.position"), position), field(t("widget.default_locale"), defaultLocale)), warning,
          h("h2", null, t("widget.texts")), h("p", { className: "hint" }, t("widget.texts.hint")),
          field(t("widget.text.locale"), textLocale),
          KEYS.map((k) => field(t("widget.text." + k), inputs[k]))),
        h("div", null, h("h2", null, t("widget.preview")), preview)),
      h("div", { className: "actions" }, s.button, s.status));
    main.append(
      h("section", null, h("h2", null, t("widget.tag")), h("p", { className: "hint" }, t("widget.tag.hint")),
        h("pre", { className: "tag", "data-tag": "" }, tag),
        h("div", { className: "actions" }, h("button", { type: "button", onclick: async () => {
          try { await navigator.clipboard.writeText(tag); copied.textContent = t("widget.copied"); } catch (e) { copied.textContent = e.message; }
        } }, t("widget.copy")), copied)),
      h("section", null, form));
    update();
  },
};
