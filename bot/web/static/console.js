/*
 * 小智 staff console: log in, watch the ticket queue, take over a customer's
 * conversation, reply, add notes, hand back to the assistant or close.
 *
 * REST under /webhooks/console/api (Bearer token kept in sessionStorage) and live
 * updates over socket.io namespace /staff. Plain ES2020, no build step.
 * Everything that came from a customer or the server is rendered with textContent.
 */
(() => {
  "use strict";

  const API = "/webhooks/console/api";
  const TOKEN_KEY = "cs_staff_token";
  const NAME_KEY = "cs_staff_name";
  const EXPIRES_KEY = "cs_staff_expires";
  const QUEUE_POLL_MS = 15000;
  const SUMMARY_CHARS = 60;

  const KIND_LABELS = { complaint: "投诉", handoff: "转人工", return: "退换货", repair: "维修" };
  const STATUS_LABELS = {
    open: "待接入",
    in_progress: "处理中",
    handed_back: "已转回智能助手",
    closed: "已关闭",
  };
  const TIER_LABELS = { A: "顶级客户", B: "高潜力客户", C: "核心客户", D: "一般客户" };
  const SENDER_LABELS = { user: "客户", bot: "智能助手", staff: "人工客服", notice: "系统" };

  const $ = (selector) => document.querySelector(selector);

  const state = {
    token: null,
    name: "",
    tickets: [],
    queueFetchedAt: 0,
    queueSeq: 0,
    currentId: null,
    detail: null,
    ticketSeq: 0,
    manager: false,
    drafts: new Map(),
    socket: null,
    timers: {},
  };

  class ApiError extends Error {
    constructor(message, status, serverMessage = "") {
      super(message);
      this.status = status;
      this.serverMessage = serverMessage; // the server's own `error`, if it gave one
    }
  }

  // ---------------------------------------------------------------- small helpers

  /** An element with a class and text; `children` are appended. */
  function el(tag, className = "", text = null, children = []) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function clear(node) {
    node.replaceChildren();
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  /** ISO strings or epoch seconds/milliseconds → a Date, or null. */
  function toDate(value) {
    if (value == null || value === "") return null;
    const date =
      typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  // The server sends times in the shop's own timezone (ISO with offset): show that
  // wall-clock time, whatever the staff member's browser timezone is.
  const SHOP_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;

  function formatDateTime(value) {
    const shop = typeof value === "string" && value.match(SHOP_TIME);
    if (shop) {
      const [, year, month, day, hour, minute] = shop;
      const now = new Date();
      const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
      const time = `${hour}:${minute}`;
      return `${year}-${month}-${day}` === today ? time : `${month}-${day} ${time}`;
    }
    const date = toDate(value);
    if (!date) return value == null ? "" : String(value);
    const today = new Date();
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    return date.toDateString() === today.toDateString()
      ? time
      : `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
  }

  function formatWait(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h) return `等待 ${h}小时${m}分${s}秒`;
    if (m) return `等待 ${m}分${s}秒`;
    return `等待 ${s}秒`;
  }

  function truncate(text, limit) {
    const value = String(text || "");
    return value.length > limit ? `${value.slice(0, limit)}…` : value;
  }

  function kindLabel(kind) {
    return KIND_LABELS[kind] || kind || "";
  }

  function statusLabel(status) {
    return STATUS_LABELS[status] || status || "";
  }

  function tierBadge(tier, className = "tier") {
    const value = tier ? String(tier).toUpperCase() : "";
    const badge = el("span", `${className} tier-${value || "none"}`, value ? `${value}类` : "—");
    badge.title = TIER_LABELS[value] || "客户等级未知";
    return badge;
  }

  function isOverdue(due) {
    const date = toDate(due);
    return Boolean(date) && date.getTime() < Date.now();
  }

  // ---------------------------------------------------------------- errors

  function showError(message) {
    const box = $("#console-error");
    box.textContent = message;
    show(box, true);
  }

  function clearError() {
    show($("#console-error"), false);
  }

  // ---------------------------------------------------------------- session and API

  function loadSession() {
    state.token = sessionStorage.getItem(TOKEN_KEY);
    state.name = sessionStorage.getItem(NAME_KEY) || "";
    const expires = toDate(sessionStorage.getItem(EXPIRES_KEY) || null);
    if (expires && expires.getTime() <= Date.now()) clearSession();
  }

  function saveSession({ token, name, expires_at: expiresAt }) {
    state.token = token;
    state.name = name || "";
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(NAME_KEY, state.name);
    if (expiresAt != null) sessionStorage.setItem(EXPIRES_KEY, String(expiresAt));
    else sessionStorage.removeItem(EXPIRES_KEY);
  }

  function clearSession() {
    state.token = null;
    state.name = "";
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(NAME_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
  }

  /** Calls the console API; a 401 on an authenticated call logs out. */
  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    const authenticated = Boolean(state.token) && path !== "/login";
    if (authenticated) headers.Authorization = `Bearer ${state.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError("网络异常，无法连接服务器，请稍后重试", 0);
    }
    const data = await response.json().catch(() => ({}));
    if (response.status === 401 && authenticated) {
      logout("登录已过期或无效，请重新登录");
      throw new ApiError("未登录", 401);
    }
    if (!response.ok) {
      const reason = data && typeof data.error === "string" ? data.error : "";
      throw new ApiError(reason || `请求失败（${response.status}）`, response.status, reason);
    }
    return data;
  }

  /** Shows an API failure, except a 401 (the login form already says it). */
  function report(error) {
    if (error instanceof ApiError && error.status === 401) return;
    showError(error.message || "操作失败");
  }

  // ---------------------------------------------------------------- login / logout

  function loginError(message) {
    const box = $("#login-error");
    box.textContent = message || "";
    show(box, Boolean(message));
  }

  async function onLogin(event) {
    event.preventDefault();
    const username = $("#login-user").value.trim();
    const password = $("#login-password").value;
    if (!username || !password) {
      loginError("请输入用户名和密码");
      return;
    }
    const submit = $("#login-submit");
    submit.disabled = true;
    loginError("");
    try {
      const code = $("#login-code").value.trim();
      const body = code ? { username, password, code } : { username, password };
      const data = await api("/login", { method: "POST", body });
      if (!data.token) throw new ApiError("登录失败：服务器未返回令牌", 500);
      saveSession(data);
      $("#login-password").value = "";
      $("#login-code").value = "";
      enterApp();
    } catch (error) {
      loginError(error.status === 401 ? error.serverMessage || "用户名或密码错误" : error.message);
    } finally {
      submit.disabled = false;
    }
  }

  function enterApp() {
    show($("#login-view"), false);
    show($("#app"), true);
    $("#staff-name").textContent = state.name;
    clearError();
    startTimers();
    connectLive();
    fetchQueue();
    fetchCanned();
    fetchRole();
    scheduleExpiry();
  }

  /** Managers see the reports and the audit log; agents do not (the API refuses too). */
  async function fetchRole() {
    try {
      const me = await api("/me");
      const manager = me.role === "manager";
      state.manager = manager;
      show($("#reports-link"), manager);
      show($("#audit-link"), manager);
    } catch (error) {
      report(error);
    }
  }

  /** Ends the token on the server too (every replica refuses it from now on). */
  async function signOut() {
    try {
      await api("/logout", { method: "POST" });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        showError("退出登录失败，请稍后重试");
        return;
      }
    }
    logout();
  }

  function logout(message = "") {
    clearSession();
    stopTimers();
    disconnectLive();
    state.currentId = null;
    state.detail = null;
    state.tickets = [];
    state.drafts.clear();
    clear($("#queue"));
    showDetail(false);
    document.title = "小智客服 · 人工坐席工作台";
    show($("#app"), false);
    show($("#login-view"), true);
    loginError(message);
    $("#login-user").focus();
  }

  function scheduleExpiry() {
    const expires = toDate(sessionStorage.getItem(EXPIRES_KEY) || null);
    if (!expires) return;
    // setTimeout overflows past ~24.8 days; such a token outlives the tab anyway.
    const delay = Math.min(expires.getTime() - Date.now(), 2 ** 31 - 1);
    state.timers.expiry = setTimeout(() => logout("登录已过期，请重新登录"), Math.max(0, delay));
  }

  // ---------------------------------------------------------------- timers

  function startTimers() {
    stopTimers();
    state.timers.poll = setInterval(() => {
      fetchQueue();
      // Without the live feed the open conversation would go stale too.
      if (!(state.socket && state.socket.connected)) fetchTicket();
    }, QUEUE_POLL_MS);
    state.timers.tick = setInterval(tickWaits, 1000);
  }

  function stopTimers() {
    clearInterval(state.timers.poll);
    clearInterval(state.timers.tick);
    clearTimeout(state.timers.expiry);
    clearTimeout(state.timers.queueSoon);
    clearTimeout(state.timers.ticketSoon);
    clearTimeout(state.timers.liveRetry);
    state.timers = {};
  }

  // ---------------------------------------------------------------- queue

  async function fetchQueue() {
    if (!state.token) return;
    const seq = ++state.queueSeq;
    try {
      const data = await api("/queue");
      if (seq !== state.queueSeq) return; // a newer answer is on its way
      state.tickets = Array.isArray(data.tickets) ? data.tickets : [];
      state.queueFetchedAt = Date.now();
      renderQueue();
    } catch (error) {
      report(error);
    }
  }

  /** Coalesces bursts of live events into one request. */
  function refreshQueueSoon() {
    clearTimeout(state.timers.queueSoon);
    state.timers.queueSoon = setTimeout(fetchQueue, 200);
  }

  function ticketRow(ticket) {
    const row = el("li", `ticket-row status-${ticket.status || "unknown"}`);
    row.dataset.ticketId = String(ticket.id);
    row.tabIndex = 0;
    row.setAttribute("role", "button");
    if (String(ticket.id) === String(state.currentId)) row.classList.add("selected");
    if (isOverdue(ticket.respond_due)) row.classList.add("overdue");

    const wait = el("span", "ticket-wait");
    if (typeof ticket.waiting_seconds === "number") wait.dataset.base = String(ticket.waiting_seconds);
    else wait.textContent = "";

    const summary = el("div", "ticket-summary", truncate(ticket.summary, SUMMARY_CHARS));
    summary.title = ticket.summary || "";

    row.append(
      el("div", "row-top", null, [
        el("span", "ticket-number", ticket.number || `#${ticket.id}`),
        el("span", `ticket-kind kind-${ticket.kind || "other"}`, kindLabel(ticket.kind)),
        tierBadge(ticket.tier, "ticket-tier"),
        el("span", "ticket-status", statusLabel(ticket.status)),
      ]),
      el("div", "row-mid", null, [
        el("span", "ticket-customer", ticket.customer_name || "未识别客户"),
        wait,
      ]),
      el("div", "ticket-assigned", ticket.assigned_to ? `处理人：${ticket.assigned_to}` : "未分配"),
      summary
    );
    return row;
  }

  function renderQueue() {
    const list = $("#queue");
    clear(list);
    for (const ticket of state.tickets) list.append(ticketRow(ticket));
    if (!state.tickets.length) list.append(el("li", "queue-empty", "暂无待处理工单"));
    const waiting = state.tickets.filter((t) => t.status === "open").length;
    $("#queue-count").textContent = `${state.tickets.length} 个工单 · ${waiting} 个待接入`;
    document.title = `${waiting ? `(${waiting}) ` : ""}小智客服 · 人工坐席工作台`;
    tickWaits();
  }

  function tickWaits() {
    const elapsed = (Date.now() - state.queueFetchedAt) / 1000;
    document.querySelectorAll("#queue .ticket-wait[data-base]").forEach((node) => {
      node.textContent = formatWait(Number(node.dataset.base) + elapsed);
    });
  }

  function onQueueClick(event) {
    const row = event.target.closest(".ticket-row");
    if (row) openTicket(row.dataset.ticketId);
  }

  function onQueueKey(event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const row = event.target.closest(".ticket-row");
    if (!row) return;
    event.preventDefault();
    openTicket(row.dataset.ticketId);
  }

  // ---------------------------------------------------------------- ticket detail

  function showDetail(visible) {
    show($("#ticket-detail"), visible);
    show($("#ticket-empty"), !visible);
    if (!visible) {
      for (const id of ["#customer", "#orders", "#open-tickets", "#notes"]) clear($(id));
      $("#customer").append(el("p", "muted", "未选择工单"));
    }
  }

  function openTicket(id) {
    if (String(id) !== String(state.currentId)) {
      state.currentId = String(id);
      state.detail = null;
      $("#reply-input").value = state.drafts.get(state.currentId) || "";
      clear($("#transcript"));
    }
    document.querySelectorAll("#queue .ticket-row").forEach((row) => {
      row.classList.toggle("selected", row.dataset.ticketId === state.currentId);
    });
    fetchTicket();
  }

  async function fetchTicket() {
    const id = state.currentId;
    if (!id || !state.token) return;
    const seq = ++state.ticketSeq;
    try {
      const data = await api(`/tickets/${encodeURIComponent(id)}`);
      if (seq !== state.ticketSeq || id !== state.currentId) return; // the staff moved on
      state.detail = data;
      renderDetail(data);
    } catch (error) {
      if (seq === state.ticketSeq) report(error);
    }
  }

  function refreshTicketSoon() {
    clearTimeout(state.timers.ticketSoon);
    state.timers.ticketSoon = setTimeout(fetchTicket, 200);
  }

  function renderDetail(data) {
    const ticket = data.ticket || {};
    showDetail(true);
    $("#ticket-title").textContent = [ticket.number || `#${ticket.id}`, kindLabel(ticket.kind), statusLabel(ticket.status)]
      .filter(Boolean)
      .join(" · ");
    renderMeta(ticket);
    $("#ticket-summary").textContent = ticket.summary || "";
    renderTranscript(Array.isArray(data.transcript) ? data.transcript : []);
    renderCustomer(data.customer);
    renderOrders(Array.isArray(data.orders) ? data.orders : []);
    renderOpenTickets(Array.isArray(data.open_tickets) ? data.open_tickets : []);
    renderNotes(Array.isArray(data.notes) ? data.notes : []);
    highlightActions(ticket);
  }

  function renderMeta(ticket) {
    const meta = $("#ticket-meta");
    clear(meta);
    const due = el("span", isOverdue(ticket.respond_due) ? "due overdue" : "due",
      ticket.respond_due ? `响应期限 ${formatDateTime(ticket.respond_due)}` : "");
    meta.append(
      tierBadge(ticket.tier),
      el("span", "", `客户：${ticket.customer_name || "未识别"}`),
      el("span", "", `创建 ${formatDateTime(ticket.created_at)}`),
      due,
      el("span", "", ticket.assigned_to ? `处理人：${ticket.assigned_to}` : "未分配")
    );
  }

  function transcriptLine(line) {
    const sender = SENDER_LABELS[line.sender] ? line.sender : "bot";
    let who = SENDER_LABELS[sender];
    if (sender === "staff" && line.staff) who = `人工客服 ${line.staff}`;
    const item = el("li", `line ${sender}`);
    if (sender !== "notice") {
      item.append(el("div", "line-head", null, [el("span", "who", who), el("span", "time", formatDateTime(line.time))]));
    }
    item.append(el("div", "text", line.text == null ? "" : line.text));
    return item;
  }

  function renderTranscript(lines) {
    const list = $("#transcript");
    const pinned = list.scrollHeight - list.scrollTop - list.clientHeight < 40 || !list.childElementCount;
    clear(list);
    for (const line of lines) list.append(transcriptLine(line));
    if (!lines.length) list.append(el("li", "line notice", null, [el("div", "text", "暂无对话记录")]));
    // Keep the staff's place when they scrolled up to read.
    if (pinned) list.scrollTop = list.scrollHeight;
  }

  function field(label, value) {
    return el("div", "field", null, [el("span", "label", label), el("span", "value", value)]);
  }

  function renderCustomer(customer) {
    const box = $("#customer");
    clear(box);
    if (!customer) {
      box.append(el("p", "muted", "未识别客户（尚未核验身份）"));
      return;
    }
    box.append(
      el("div", "customer-name", null, [el("strong", "", customer.name || "（无姓名）"), tierBadge(customer.tier)]),
      field("手机", customer.phone || "—"),
      field("客户编号", customer.id || "—")
    );
    if (state.manager && customer.id) {
      const erase = el("button", "btn small danger", "删除个人信息");
      erase.type = "button";
      erase.addEventListener("click", () => eraseCustomer(customer.id));
      box.append(erase);
    }
  }

  /** PIPL deletion (managers; the server checks too): the id typed again to confirm. */
  async function eraseCustomer(id) {
    const typed = window.prompt(`将匿名化客户 ${id} 的姓名、手机号及全部对话内容，且无法恢复。\n请输入客户编号确认：`);
    if (typed === null) return;
    try {
      const done = await api(`/customers/${encodeURIComponent(id)}/erase`, { method: "POST", body: { confirm: typed.trim() } });
      window.alert(`已删除该客户的个人信息：${done.conversations} 个对话已匿名化`);
      if (state.currentId) openTicket(state.currentId);
    } catch (error) {
      report(error);
    }
  }

  function itemsText(items) {
    if (!Array.isArray(items)) return items == null ? "" : String(items);
    return items
      .map((item) => {
        if (item && typeof item === "object") {
          const name = item.name || item.product || item.sku || "";
          return item.qty ? `${name} ×${item.qty}` : name;
        }
        return String(item);
      })
      .join("、");
  }

  function renderOrders(orders) {
    const list = $("#orders");
    clear(list);
    for (const order of orders) {
      list.append(
        el("li", "order", null, [
          el("div", "row", null, [el("strong", "", order.order_no), el("span", "pill", order.status)]),
          el("div", "", itemsText(order.items)),
          el("div", "muted", order.placed_at ? `下单 ${formatDateTime(order.placed_at)}` : ""),
        ])
      );
    }
    if (!orders.length) list.append(el("li", "muted", "无订单记录"));
  }

  function renderOpenTickets(tickets) {
    const list = $("#open-tickets");
    clear(list);
    for (const ticket of tickets) {
      list.append(
        el("li", "open-ticket", null, [
          el("div", "row", null, [
            el("strong", "", ticket.number),
            el("span", "pill", `${kindLabel(ticket.kind)} · ${statusLabel(ticket.status)}`),
          ]),
          el("div", isOverdue(ticket.respond_due) ? "muted overdue" : "muted",
            ticket.respond_due ? `响应期限 ${formatDateTime(ticket.respond_due)}` : ""),
        ])
      );
    }
    if (!tickets.length) list.append(el("li", "muted", "无其他未结工单"));
  }

  function renderNotes(notes) {
    const list = $("#notes");
    clear(list);
    for (const note of notes) {
      list.append(
        el("li", "note", null, [
          el("div", "note-head", null, [el("strong", "", note.author), el("span", "muted", formatDateTime(note.time))]),
          el("div", "note-text", note.text),
        ])
      );
    }
    if (!notes.length) list.append(el("li", "muted", "暂无备注"));
  }

  /** Marks the likely next step; buttons stay enabled and the server decides. */
  function highlightActions(ticket) {
    const mine = ticket.assigned_to && ticket.assigned_to === state.name;
    const active = ticket.status === "in_progress";
    $("#join").classList.toggle("primary", !active || !mine);
    $("#handback").classList.toggle("primary", active && Boolean(mine));
  }

  // ---------------------------------------------------------------- actions

  /** POSTs an action on the open ticket, then re-reads the ticket and the queue. */
  async function act(action, body, button) {
    clearError();
    if (!state.currentId) {
      showError("请先从左侧队列选择一个工单");
      return false;
    }
    if (button) button.disabled = true;
    try {
      await api(`/tickets/${encodeURIComponent(state.currentId)}/${action}`, { method: "POST", body });
      fetchTicket();
      refreshQueueSoon();
      return true;
    } catch (error) {
      report(error);
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  async function sendReply() {
    const input = $("#reply-input");
    const text = input.value.trim();
    if (!text) {
      showError("回复内容不能为空");
      return;
    }
    const ticketId = state.currentId;
    if (await act("reply", { text }, $("#reply-send"))) {
      state.drafts.delete(ticketId);
      if (ticketId === state.currentId) input.value = "";
    }
  }

  async function addNote() {
    const input = $("#note-input");
    const text = input.value.trim();
    if (!text) {
      showError("备注内容不能为空");
      return;
    }
    if (await act("note", { text }, $("#note-add"))) input.value = "";
  }

  function onReplyKey(event) {
    // isComposing / 229: Enter is confirming a pinyin candidate, not sending.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    sendReply();
  }

  // ---------------------------------------------------------------- canned replies

  async function fetchCanned() {
    try {
      const data = await api("/canned");
      renderCanned(Array.isArray(data.groups) ? data.groups : []);
    } catch (error) {
      report(error);
    }
  }

  function renderCanned(groups) {
    const box = $("#canned");
    clear(box);
    for (const group of groups) {
      const replies = Array.isArray(group.replies) ? group.replies : [];
      const list = el("div", "canned-list");
      for (const reply of replies) {
        const chip = el("button", "canned-reply", reply);
        chip.type = "button";
        chip.title = "插入回复框";
        chip.dataset.text = String(reply);
        list.append(chip);
      }
      box.append(el("div", "canned-group", null, [el("h4", "", group.title), list]));
    }
    if (!groups.length) box.append(el("p", "muted", "暂无常用回复"));
  }

  function insertAtCursor(textarea, text) {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    const caret = start + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function onCannedClick(event) {
    const chip = event.target.closest(".canned-reply");
    if (chip) insertAtCursor($("#reply-input"), chip.dataset.text);
  }

  // ---------------------------------------------------------------- live updates

  function setLive(connected, text) {
    const badge = $("#live-status");
    badge.textContent = text || (connected ? "实时更新已连接" : "实时更新已断开，15秒自动刷新");
    badge.classList.toggle("on", connected);
    badge.classList.toggle("off", !connected);
  }

  function connectLive() {
    disconnectLive();
    if (typeof window.io !== "function") {
      setLive(false, "实时更新不可用，15秒自动刷新");
      return;
    }
    const socket = window.io("/staff", { path: "/socket.io", auth: { token: state.token } });
    state.socket = socket;
    socket.on("connect", () => {
      setLive(true);
      refreshQueueSoon(); // events may have been missed while disconnected
      if (state.currentId) refreshTicketSoon();
    });
    socket.on("disconnect", () => setLive(false));
    socket.on("connect_error", () => {
      setLive(false);
      // A refused handshake is not retried by socket.io itself.
      if (!socket.active) {
        clearTimeout(state.timers.liveRetry);
        state.timers.liveRetry = setTimeout(() => state.socket === socket && socket.connect(), 10000);
      }
    });
    socket.on("queue_changed", refreshQueueSoon);
    socket.on("conversation_updated", (data) => {
      const ticket = state.detail && state.detail.ticket;
      if (ticket && data && data.conversation_id === ticket.conversation_id) refreshTicketSoon();
    });
  }

  function disconnectLive() {
    if (state.socket) {
      state.socket.removeAllListeners();
      state.socket.disconnect();
      state.socket = null;
    }
  }

  // ---------------------------------------------------------------- start

  function bindEvents() {
    $("#login").addEventListener("submit", onLogin);
    $("#logout").addEventListener("click", signOut);
    $("#queue").addEventListener("click", onQueueClick);
    $("#queue").addEventListener("keydown", onQueueKey);
    $("#join").addEventListener("click", (e) => act("join", {}, e.currentTarget));
    $("#handback").addEventListener("click", (e) => act("handback", {}, e.currentTarget));
    $("#close").addEventListener("click", (e) => act("close", {}, e.currentTarget));
    $("#reply-send").addEventListener("click", sendReply);
    $("#reply-input").addEventListener("keydown", onReplyKey);
    $("#reply-input").addEventListener("input", (e) => {
      if (state.currentId) state.drafts.set(state.currentId, e.target.value);
    });
    $("#note-add").addEventListener("click", addNote);
    $("#canned").addEventListener("click", onCannedClick);
    $("#console-error").addEventListener("click", clearError);
  }

  function start() {
    bindEvents();
    loadSession();
    if (state.token) enterApp();
    else logout();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
