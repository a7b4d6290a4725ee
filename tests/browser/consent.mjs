// A person at Odoo's login and consent pages, in a real headless Chromium.
//
// Run by tests/test_consent_browser.py with the Node 22 of .ci/bootstrap-node:
//
//     node consent.mjs <node dir of .ci/bootstrap-node>  < job.json
//
// job.json: {"chromium": path, "login", "password", "redirectUri",
//            "runs": [{"name", "authorizeUrl", "decision": "allow"|"deny",
//                      "screenshot": path or null}]}
//
// Each run gets a fresh browser context (no cookies): it opens the authorize
// URL, lands on Odoo's own login page, logs in, reads the consent page,
// clicks the decision and captures the redirect to the loopback redirect URI
// (answered here, since nothing listens there). Prints one JSON report.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const nodeDir = process.argv[2];
const require = createRequire(path.join(nodeDir, "package.json"));
const { chromium } = require("playwright-core");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TIMEOUT_MS = 30000;

function queryOf(url) {
  return Object.fromEntries(new URL(url).searchParams.entries());
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

async function consentPage(page, job, run) {
  // 1. The authorization endpoint sends a stranger to Odoo's login page.
  await page.goto(run.authorizeUrl);
  const loginUrl = new URL(page.url());
  // 2. Odoo's real login form, filled and submitted as a person would.
  await page.fill("input[name=login]", job.login);
  await page.fill("input[name=password]", job.password);
  const consentResponse = page.waitForResponse(
    (r) =>
      new URL(r.url()).pathname === "/oauth/authorize" &&
      r.request().method() === "GET" &&
      r.status() === 200,
  );
  await page.click("form.oe_login_form button[type=submit]");
  const response = await consentResponse;
  await page.waitForSelector("form.o_mcp_oauth_consent");
  const headers = await response.allHeaders();
  return {
    loginPath: loginUrl.pathname,
    title: await page.title(),
    status: response.status(),
    headers: {
      "x-frame-options": headers["x-frame-options"] ?? null,
      "content-security-policy": headers["content-security-policy"] ?? null,
      "cache-control": headers["cache-control"] ?? null,
    },
    heading: await text(page, "form.o_mcp_oauth_consent h5"),
    clientName: await text(page, ".o_mcp_client_name"),
    redirectHost: await text(page, ".o_mcp_redirect_host"),
    user: await text(page, ".o_mcp_user"),
    scope: await text(page, "form.o_mcp_oauth_consent dd code:not(.text-break)"),
    buttons: await page
      .locator("form.o_mcp_oauth_consent button[name=decision]")
      .evaluateAll((nodes) => nodes.map((node) => node.value)),
  };
}

async function decide(page, job, run) {
  // 3. The decision: the POST answers 303 to the loopback redirect URI.
  let arrived = null;
  await page.route(`${job.redirectUri}**`, (route) => {
    arrived = route.request().url();
    return route.fulfill({ status: 200, contentType: "text/plain", body: "done" });
  });
  const decision = page.waitForResponse(
    (r) =>
      new URL(r.url()).pathname === "/oauth/authorize" &&
      r.request().method() === "POST",
  );
  await page.click(`form.o_mcp_oauth_consent button[value=${run.decision}]`);
  const answer = await decision;
  await page.waitForURL(`${job.redirectUri}**`);
  const location = answer.headers()["location"] ?? null;
  return {
    status: answer.status(),
    location,
    query: location ? queryOf(location) : null,
    browserArrived: arrived !== null && arrived === location,
  };
}

async function runOne(browser, job, run) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  try {
    const consent = await consentPage(page, job, run);
    if (run.screenshot) {
      await page.screenshot({ path: run.screenshot, fullPage: true });
    }
    return { name: run.name, consent, redirect: await decide(page, job, run) };
  } finally {
    await context.close();
  }
}

async function main() {
  const job = JSON.parse(readFileSync(0, "utf8"));
  const browser = await chromium.launch({
    executablePath: job.chromium,
    args: CHROMIUM_ARGS,
    timeout: TIMEOUT_MS,
  });
  const report = { browser: browser.version(), runs: [] };
  try {
    for (const run of job.runs) {
      report.runs.push(await runOne(browser, job, run));
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
