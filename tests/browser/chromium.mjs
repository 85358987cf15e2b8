// Debian's Chromium, headless, through playwright-core (from the widget's
// npm tools, WIDGET_NODE_MODULES): the flags keep it off the network it
// cannot reach on this kind of machine.
import { createRequire } from "node:module";

const require = createRequire(process.env.WIDGET_NODE_MODULES + "/");
const { chromium } = require("playwright-core");

export const launch = () =>
  chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
