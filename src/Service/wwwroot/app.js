// FraudActors dashboard: polls the node's HTTP API every second and draws what it says.
// Plain modern JavaScript, no build step and nothing fetched from elsewhere. Every value from
// the server goes into the page as text (textContent), never as markup.
"use strict";

const POLL_MS = 1000;
const WINDOW_MS = 120_000;        // the charts keep two minutes of points
const REQUEST_TIMEOUT_MS = 3000;
const TOKEN_KEY = "fraud-admin-token";
const READ_TOKEN_KEY = "fraud-read-token";
const TERMINAL_STATES = new Set(["cancelled", "failed", "finished"]);
const PALETTE = ["#4e9af1", "#f1a04e", "#5cc98a", "#d86ad8", "#e8d44d", "#ef6b6b", "#6bd3e0", "#a98cf0"];

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat("en-US");
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

const state = {
  job: null,               // the job shown: { id, name, state, started }
  jobPinnedState: null,    // a state learnt from a PATCH answer, kept until /jobs says more
  connected: null,
  throughput: { in: [], out: [] },
  lag: new Map(),          // "topic/partition" -> [{ t, v }]
  rules: [],               // the desired rules of the last GET /rules
  ruleFormFor: null,       // the rule the change form was last filled from
};

// ---------------------------------------------------------------- HTTP

class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// The read token (or, without one, the admin token) goes with every read: a node started with
// --read-token answers 401 to reads without it. Admin calls send the admin token themselves.
function readAuthorization() {
  const token = (sessionStorage.getItem(READ_TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY) || "").trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function request(path, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      cache: "no-store",
      ...options,
      headers: { Accept: "application/json", ...readAuthorization(), ...(options.headers || {}) },
      signal: controller.signal,
    });
    const text = await response.text();
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch { body = { detail: text }; }
    }
    if (!response.ok) throw new HttpError(response.status, body);
    return body;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- formatting

function fmtNumber(v) {
  return typeof v === "number" && Number.isFinite(v) ? number.format(v) : "–";
}

function fmtRate(v) {
  return typeof v === "number" && Number.isFinite(v) ? decimal.format(v) : "–";
}

function fmtBytes(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : decimal.format(v)} ${units[i]}`;
}

function fmtDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${decimal.format(ms / 1000)} s`;
  return fmtUptime(ms / 1000);
}

function fmtUptime(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "–";
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

function toDate(v) {
  if (v === null || v === undefined || v === "") return null;
  const d = typeof v === "number" ? new Date(v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
}

// Wall-clock times (when something happened on this node): local time of day.
function fmtClock(v) {
  const d = toDate(v);
  return d ? d.toLocaleTimeString([], { hour12: false }) : "–";
}

// Event times (the records' own timestamps, often far from now): UTC, to the second.
function fmtEventTime(v) {
  const d = toDate(v);
  return d ? d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "–";
}

function fmtWatermark(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number" && v <= 0) return "–";
  return fmtEventTime(v);
}

function setText(id, text) {
  const el = $(id);
  if (el && el.textContent !== text) el.textContent = text;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(tableId, emptyId, items, makeRow) {
  const tbody = $(tableId).tBodies[0];
  const rows = items.map(makeRow);
  tbody.replaceChildren(...rows);
  $(emptyId).hidden = rows.length > 0;
}

// ---------------------------------------------------------------- rendering

function renderConnection(connected, why) {
  const el = $("connection");
  const status = connected ? "connected" : "disconnected";
  el.dataset.status = status;
  el.textContent = connected ? "connected" : "disconnected";
  el.title = connected ? "" : (why || "the node does not answer; showing the last data it sent");
  document.body.classList.toggle("stale", !connected);
  state.connected = connected;
}

function renderOverview(o) {
  setText("node", o.node ?? "–");
  const members = Array.isArray(o.cluster_members) ? o.cluster_members : [];
  setText("cluster-members", members.length ? members.join(", ") : "–");
  setText("uptime", fmtUptime(o.uptime_s));
  setText("records-in", fmtNumber(o.records_in));
  setText("records-in-per-s", fmtRate(o.records_in_per_s));
  setText("records-out-per-s", fmtRate(o.records_out_per_s));
  setText("alerts-total", fmtNumber(o.alerts));
  setText("window-results", fmtNumber(o.window_results));
  setText("late", fmtNumber(o.late));
  setText("dlq", fmtNumber(o.dlq));
  if (!state.job && o.job_state) renderJobState(o.job_state);

  const now = Date.now();
  push(state.throughput.in, now, o.records_in_per_s);
  push(state.throughput.out, now, o.records_out_per_s);
  drawChart($("throughput-chart"), $("throughput-legend"), [
    { name: "in / s", color: PALETTE[0], points: state.throughput.in },
    { name: "out / s", color: PALETTE[1], points: state.throughput.out },
  ]);
}

function pickJob(jobs) {
  if (!Array.isArray(jobs) || jobs.length === 0) return null;
  if (state.job) {
    const same = jobs.find((j) => j.id === state.job.id);
    if (same) return same;
  }
  return jobs.find((j) => !TERMINAL_STATES.has(j.state)) || jobs[0];
}

function renderJob(job) {
  if (!job) return;
  const previous = state.job;
  state.job = job;
  setText("job-id", job.id ?? "–");
  setText("job-name", job.name ?? "–");
  $("job-id").title = job.started ? `started ${fmtEventTime(job.started)}` : "";
  // After a PATCH the answer's state is newer than a poll that was already on its way.
  let shown = job.state;
  if (state.jobPinnedState && previous && previous.id === job.id && job.state === "running") {
    shown = state.jobPinnedState;
  } else {
    state.jobPinnedState = null;
  }
  renderJobState(shown);
}

function renderJobState(jobState) {
  const el = $("job-state");
  el.textContent = jobState || "unknown";
  el.dataset.state = jobState || "";
  const terminal = TERMINAL_STATES.has(jobState);
  const controllable = state.job && !terminal && jobState !== "stopping";
  $("cancel").disabled = !controllable;
  $("stop").disabled = !controllable;
}

function describeCheckpoint(c) {
  if (!c) return "none";
  const parts = [`epoch ${c.epoch}`, `partition ${c.partition}`, fmtClock(c.started)];
  if (c.status !== "failed") {
    parts.push(fmtDuration(c.duration_ms), `${fmtNumber(c.users)} users`, fmtBytes(c.bytes));
  } else if (c.error) {
    parts.push(c.error);
  }
  return parts.join(" · ");
}

function renderCheckpoints(cp) {
  const counts = cp.counts || {};
  setText("cp-completed", fmtNumber(counts.completed));
  setText("cp-failed", fmtNumber(counts.failed));
  setText("cp-in-progress", fmtNumber(counts.in_progress));
  const latest = cp.latest || {};
  setText("cp-latest-completed", describeCheckpoint(latest.completed));
  setText("cp-latest-failed", describeCheckpoint(latest.failed));

  fillTable("checkpoints", "checkpoints-empty", cp.history || [], (c) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "checkpoint-row";
    tr.dataset.status = c.status ?? "";
    cell(tr, String(c.epoch ?? "–"), "num");
    cell(tr, String(c.partition ?? "–"), "num");
    cell(tr, fmtClock(c.started)).title = fmtEventTime(c.started);
    cell(tr, fmtDuration(c.duration_ms), "num");
    cell(tr, fmtNumber(c.users), "num");
    cell(tr, fmtBytes(c.bytes), "num");
    cell(tr, fmtNumber(c.next_offset), "num");
    const status = cell(tr, c.status ?? "–", `status status-${String(c.status ?? "").replace(/[^a-z_]/g, "")}`);
    if (c.error) {
      status.title = c.error;
      status.textContent = `${c.status}: ${c.error}`;
    }
    return tr;
  });
}

function renderAlerts(body) {
  fillTable("alerts", "alerts-empty", body.alerts || [], (a) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "alert-row";
    tr.dataset.user = a.user_id ?? "";
    tr.title = `${a.alert_id ?? ""} (partition ${a.partition}, offset ${a.offset})`;
    const user = cell(tr, "");
    const link = document.createElement("a");
    link.href = "#user-panel";
    link.textContent = a.user_id ?? "–";
    link.addEventListener("click", () => { $("user-id").value = a.user_id ?? ""; lookUpUser(); });
    user.appendChild(link);
    cell(tr, a.rule ?? "–");
    cell(tr, fmtNumber(a.count), "num");
    cell(tr, typeof a.last_amount === "number" ? a.last_amount.toFixed(2) : String(a.last_amount ?? "–"), "num");
    cell(tr, fmtEventTime(a.tx_ts));
    cell(tr, fmtClock(a.detected_at)).title = fmtEventTime(a.detected_at);
    return tr;
  });
}

function renderPartitions(body) {
  const partitions = body.partitions || [];
  let total = 0;
  let known = false;
  const now = Date.now();
  fillTable("partitions", "partitions-empty", partitions, (p) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "partition-row";
    cell(tr, p.topic ?? "–");
    cell(tr, String(p.partition ?? "–"), "num");
    cell(tr, fmtNumber(p.current_offset), "num");
    cell(tr, fmtNumber(p.committed_offset), "num");
    cell(tr, fmtNumber(p.end_offset), "num");
    cell(tr, fmtNumber(p.lag), p.lag > 0 ? "num lagging" : "num");
    cell(tr, fmtWatermark(p.watermark));
    if (typeof p.lag === "number") {
      total += p.lag;
      known = true;
      const key = `${p.topic}/${p.partition}`;
      if (!state.lag.has(key)) state.lag.set(key, []);
      push(state.lag.get(key), now, p.lag);
    }
    return tr;
  });
  setText("total-lag", known ? fmtNumber(total) : "–");
  const series = [...state.lag.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([name, points], i) => ({ name, color: PALETTE[i % PALETTE.length], points }));
  drawChart($("lag-chart"), $("lag-legend"), series);
}

function fmtParams(params) {
  return Object.entries(params || {}).map(([k, v]) => `${k}=${v}`).join(" ");
}

// GET /rules: the desired rules, then each partition's rules in force; a rule whose checkpoint
// has not recorded it yet shows "pending" (its alerts wait for that checkpoint).
function renderRules(body) {
  const desired = Array.isArray(body.desired) ? body.desired : [];
  state.rules = desired;
  fillTable("rules-desired", "rules-desired-empty", desired, (r) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "rule-row";
    tr.dataset.rule = r.rule ?? "";
    cell(tr, r.rule ?? "–");
    cell(tr, r.enabled ? "on" : "off");
    cell(tr, String(r.version ?? "–"), "num").title = r.version === 0 ? "as configured" : "offset in the rules topic + 1";
    cell(tr, fmtParams(r.params));
    return tr;
  });
  const rows = (body.partitions || []).flatMap((p) => (p.rules || []).map((r) => ({ partition: p.partition, recorded: p.recorded, ...r })));
  fillTable("rules-partitions", "rules-partitions-empty", rows, (r) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "rule-in-force-row";
    tr.dataset.recorded = String(r.since_epoch !== null && r.since_epoch !== undefined);
    cell(tr, String(r.partition ?? "–"), "num");
    cell(tr, r.rule ?? "–");
    cell(tr, r.enabled ? "on" : "off");
    cell(tr, String(r.version ?? "–"), "num");
    cell(tr, fmtNumber(r.since_offset), "num");
    const recorded = r.since_epoch !== null && r.since_epoch !== undefined;
    const epoch = cell(tr, recorded ? String(r.since_epoch) : "pending", recorded ? "num" : "num pending");
    if (!recorded) epoch.title = "waits for the checkpoint that records it; its alerts wait too";
    cell(tr, fmtParams(r.params));
    return tr;
  });
  renderRuleChoices();
}

// The change form's rule list follows the desired rules; the fields are filled from a rule when
// it is chosen (or first appears), never while someone edits them.
function renderRuleChoices() {
  const select = $("rule-name");
  const names = state.rules.map((r) => r.rule);
  const current = [...select.options].map((o) => o.value);
  if (names.join("\n") !== current.join("\n")) {
    const chosen = select.value;
    select.replaceChildren(...names.map((n) => {
      const option = document.createElement("option");
      option.value = n;
      option.textContent = n;
      return option;
    }));
    if (names.includes(chosen)) select.value = chosen;
  }
  if (select.value && state.ruleFormFor !== select.value) fillRuleForm();
}

function fillRuleForm() {
  const rule = state.rules.find((r) => r.rule === $("rule-name").value);
  if (!rule) return;
  state.ruleFormFor = rule.rule;
  $("rule-enabled").checked = Boolean(rule.enabled);
  $("rule-params").value = Object.entries(rule.params || {}).map(([k, v]) => `${k}=${v}`).join("\n");
}

// ---------------------------------------------------------------- charts (inline SVG)

function push(points, t, v) {
  if (typeof v === "number" && Number.isFinite(v)) points.push({ t, v });
  while (points.length && points[0].t < t - WINDOW_MS) points.shift();
}

function niceMax(v) {
  if (v <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (v <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svgElement(name, attributes) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v));
  return el;
}

function drawChart(svg, legend, series) {
  const width = Math.max(200, Math.round(svg.clientWidth || 600));
  const height = Math.max(100, Math.round(svg.clientHeight || 180));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const left = 48, right = 8, top = 8, bottom = 20;
  const plotW = width - left - right, plotH = height - top - bottom;
  const now = Date.now();
  const from = now - WINDOW_MS;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v))));
  const x = (t) => left + ((t - from) / WINDOW_MS) * plotW;
  const y = (v) => top + plotH - (v / max) * plotH;

  const children = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    children.push(svgElement("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }));
    const label = svgElement("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" });
    label.textContent = decimal.format(v);
    children.push(label);
  }
  for (const [ago, anchor] of [[120, "start"], [60, "middle"], [0, "end"]]) {
    const label = svgElement("text", { x: x(now - ago * 1000), y: height - 4, class: "axis", "text-anchor": anchor });
    label.textContent = ago === 0 ? "now" : `-${ago}s`;
    children.push(label);
  }
  for (const s of series) {
    const visible = s.points.filter((p) => p.t >= from);
    if (visible.length === 0) continue;
    const d = visible.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    children.push(svgElement("path", { d, class: "line", stroke: s.color, "data-series": s.name }));
  }
  svg.replaceChildren(...children);
  svg.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));

  legend.replaceChildren(...series.map((s) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = s.color;
    const last = s.points.length ? s.points[s.points.length - 1].v : null;
    item.append(swatch, `${s.name} ${last === null ? "–" : decimal.format(last)}`);
    return item;
  }));
}

// ---------------------------------------------------------------- polling

async function poll() {
  const [overview, jobs, partitions, alerts, rules] = await Promise.allSettled([
    request("overview"),
    request("jobs"),
    request("partitions"),
    request("alerts?limit=20"),
    request("rules"),
  ]);

  if (overview.status === "fulfilled") renderOverview(overview.value);
  if (jobs.status === "fulfilled") renderJob(pickJob(jobs.value?.jobs));
  if (partitions.status === "fulfilled") renderPartitions(partitions.value);
  if (alerts.status === "fulfilled") renderAlerts(alerts.value);
  if (rules.status === "fulfilled") renderRules(rules.value);

  let checkpoints = null;
  if (state.job?.id) {
    [checkpoints] = await Promise.allSettled([request(`jobs/${encodeURIComponent(state.job.id)}/checkpoints`)]);
    if (checkpoints.status === "fulfilled") renderCheckpoints(checkpoints.value);
  }

  // Connected while the node answers at all; an error status is still an answer.
  const results = [overview, jobs, partitions, alerts, rules, checkpoints].filter(Boolean);
  renderReadToken(results.some((r) => r.status === "rejected" && r.reason instanceof HttpError && r.reason.status === 401));
  const answered = results.some((r) => r.status === "fulfilled" || r.reason instanceof HttpError);
  const why = results.find((r) => r.status === "rejected")?.reason?.message;
  renderConnection(answered, why);
}

async function loop() {
  try {
    await poll();
  } catch (e) {
    renderConnection(false, String(e));
  }
  setTimeout(loop, POLL_MS);
}

// ---------------------------------------------------------------- read token

// Shown while the node refuses reads without a token (or with a wrong one), and hidden again
// once it answers them.
function renderReadToken(refused) {
  const panel = $("read");
  if (refused) {
    const had = Boolean(sessionStorage.getItem(READ_TOKEN_KEY));
    $("read-message").textContent = had
      ? "401 Unauthorized: the node refuses this token. Type the read token (or the admin token)."
      : "The node answers 401 Unauthorized: type its read token (--read-token or FRAUD_READ_TOKEN), or the admin token.";
    $("read-message").className = "message error";
    if (panel.hidden) {
      panel.hidden = false;
      $("read-token").focus();
    }
  } else if (!panel.hidden) {
    panel.hidden = true;
  }
}

// ---------------------------------------------------------------- job control

function adminMessage(text, kind) {
  const el = $("admin-message");
  el.textContent = text;
  el.dataset.kind = kind;
  el.className = `message ${kind}`;
}

async function changeJob(mode) {
  const token = $("token").value.trim();
  if (!state.job?.id) {
    adminMessage("No job to change yet: the node has not reported one.", "error");
    return;
  }
  if (!token) {
    adminMessage("Type the admin token first (the node's --admin-token or FRAUD_ADMIN_TOKEN).", "error");
    $("token").focus();
    return;
  }
  const verb = mode === "stop" ? "Stop with savepoint" : "Cancel";
  $("cancel").disabled = true;
  $("stop").disabled = true;
  adminMessage(`${verb}: sending…`, "info");
  try {
    const job = await request(`jobs/${encodeURIComponent(state.job.id)}?mode=${mode}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${token}` },
    });
    const now = job?.state || "stopping";
    state.jobPinnedState = now;
    if (job?.id) state.job = job;
    renderJobState(now);
    adminMessage(mode === "stop"
      ? `Stop accepted: a final checkpoint, then the job stops (${now}).`
      : `Cancel accepted: the job stops without a final checkpoint (${now}).`, "ok");
  } catch (e) {
    renderJobState(state.jobPinnedState || state.job?.state);
    if (e instanceof HttpError && e.status === 401) {
      adminMessage(`401 Unauthorized: the token is missing or wrong. ${e.problem?.detail ?? ""}`.trim(), "error");
    } else if (e instanceof HttpError && e.status === 403) {
      adminMessage(`403 Forbidden: this node refuses admin calls. ${e.problem?.detail ?? ""}`.trim(), "error");
    } else if (e instanceof HttpError) {
      adminMessage(`${e.status} ${e.problem?.title ?? ""}: ${e.problem?.detail ?? e.message}`, "error");
    } else {
      adminMessage(`${verb} failed: the node did not answer (${e.message}).`, "error");
    }
  }
}

// ---------------------------------------------------------------- rule change

function ruleMessage(text, kind) {
  const el = $("rule-message");
  el.textContent = text;
  el.dataset.kind = kind;
  el.className = `message ${kind}`;
}

// The params field: a JSON object, or key=value lines (commas also separate); empty: none given.
function parseParams(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (trimmed.startsWith("{")) {
    const parsed = JSON.parse(trimmed);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the params JSON must be an object");
    return parsed;
  }
  const params = {};
  for (const part of trimmed.split(/[\n,]+/).map((p) => p.trim()).filter(Boolean)) {
    const equals = part.indexOf("=");
    if (equals <= 0) throw new Error(`'${part}' is not key=value`);
    params[part.slice(0, equals).trim()] = part.slice(equals + 1).trim();
  }
  return params;
}

async function changeRule() {
  const name = $("rule-name").value;
  const token = $("rule-token").value.trim();
  if (!name) {
    ruleMessage("No rule to change yet: the node has not listed its rules.", "error");
    return;
  }
  if (!token) {
    ruleMessage("Type the admin token first (the node's --admin-token or FRAUD_ADMIN_TOKEN).", "error");
    $("rule-token").focus();
    return;
  }
  const value = { rule: name, enabled: $("rule-enabled").checked };
  try {
    const params = parseParams($("rule-params").value);
    if (params) value.params = params;
  } catch (e) {
    ruleMessage(`params: ${e.message}`, "error");
    return;
  }
  $("rule-apply").disabled = true;
  ruleMessage(`${name}: publishing…`, "info");
  try {
    const answer = await request(`rules/${encodeURIComponent(name)}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(value),
    });
    ruleMessage(`${answer.rule}: version ${answer.version} published (offset ${answer.offset} of ${answer.topic}): `
      + `${answer.enabled ? "on" : "off"} ${fmtParams(answer.params)}. Each partition takes it at its next checkpoint.`, "ok");
    $("rule-enabled").checked = Boolean(answer.enabled);
    $("rule-params").value = Object.entries(answer.params || {}).map(([k, v]) => `${k}=${v}`).join("\n");
  } catch (e) {
    if (e instanceof HttpError && e.status === 400) {
      ruleMessage(`400 Bad Request: ${e.problem?.detail ?? e.message}`, "error");
    } else if (e instanceof HttpError && e.status === 401) {
      ruleMessage(`401 Unauthorized: the token is missing or wrong. ${e.problem?.detail ?? ""}`.trim(), "error");
    } else if (e instanceof HttpError && e.status === 403) {
      ruleMessage(`403 Forbidden: this node refuses admin calls. ${e.problem?.detail ?? ""}`.trim(), "error");
    } else if (e instanceof HttpError) {
      ruleMessage(`${e.status} ${e.problem?.title ?? ""}: ${e.problem?.detail ?? e.message}`, "error");
    } else {
      ruleMessage(`${name}: the node did not answer (${e.message}).`, "error");
    }
  } finally {
    $("rule-apply").disabled = false;
  }
}

// ---------------------------------------------------------------- user lookup

async function lookUpUser() {
  const id = $("user-id").value.trim();
  const message = $("user-message");
  const result = $("user-result");
  if (!id) {
    message.textContent = "Type a user id.";
    result.hidden = true;
    return;
  }
  message.textContent = `Looking up ${id}…`;
  try {
    const user = await request(`users/${encodeURIComponent(id)}`);
    message.textContent = `State of ${user.user_id ?? id}`;
    setText("user-partition", String(user.partition ?? "–"));
    setText("user-offset", fmtNumber(user.last_applied_offset));
    setText("user-transactions", fmtNumber(user.transaction_count));
    $("user-json").textContent = JSON.stringify(
      { rules: user.rules, timers: user.timers, windows: user.windows, profile: user.profile }, null, 2);
    result.hidden = false;
  } catch (e) {
    result.hidden = true;
    if (e instanceof HttpError && e.status === 404) {
      message.textContent = `No state for ${id}. ${e.problem?.detail ?? ""}`.trim();
    } else if (e instanceof HttpError) {
      message.textContent = `${e.status}: ${e.message}`;
    } else {
      message.textContent = `The node did not answer (${e.message}).`;
    }
  }
}

// ---------------------------------------------------------------- start

function start() {
  // One admin token for the tab: typed in Job control or in Rules, it fills both.
  const tokens = [$("token"), $("rule-token")];
  for (const input of tokens) {
    input.value = sessionStorage.getItem(TOKEN_KEY) || "";
    input.addEventListener("input", () => {
      sessionStorage.setItem(TOKEN_KEY, input.value);
      for (const other of tokens) if (other !== input) other.value = input.value;
    });
  }
  $("admin-form").addEventListener("submit", (e) => e.preventDefault());
  $("read-token").value = sessionStorage.getItem(READ_TOKEN_KEY) || "";
  $("read-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(READ_TOKEN_KEY, $("read-token").value.trim());
    $("read-message").textContent = "Trying the token…";
    $("read-message").className = "message info";
  });
  $("cancel").addEventListener("click", () => changeJob("cancel"));
  $("stop").addEventListener("click", () => changeJob("stop"));
  $("user-form").addEventListener("submit", (e) => { e.preventDefault(); lookUpUser(); });
  $("rule-form").addEventListener("submit", (e) => { e.preventDefault(); changeRule(); });
  $("rule-name").addEventListener("change", fillRuleForm);
  renderJobState(null);
  setText("job-state", "loading");
  loop();
}

start();
