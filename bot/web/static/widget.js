/*
 * 小智 web chat widget.
 *
 * A shop embeds it with one tag:
 *   <script src="http://HOST:PORT/webhooks/chat/widget.js"></script>
 * Optional attributes: data-title="…", data-open="true" (start open),
 * data-mode="page" (full-page layout, no launcher).
 *
 * It talks to Rasa's socket.io channel (session_request → session_confirm,
 * user_uttered → bot_uttered) with the vendored socket.io-client. The server issues
 * the session id with its signature (bot/channels/socketio.py); both and the rendered
 * history stay in the shop page's localStorage so that a reload continues the same
 * conversation, and nobody who merely knows the id can join it.
 *
 * Plain ES2020, no build step. Message text is only ever put into the page with
 * textContent / text nodes, never innerHTML.
 */
(() => {
  "use strict";

  if (window.csWidget) return; // the tag was included twice

  // currentScript is only set while this file first runs: read it now.
  const script = document.currentScript;
  const ORIGIN = new URL(script && script.src ? script.src : location.href).origin;
  const options = {
    title: (script && script.dataset.title) || "小智客服",
    page: Boolean(script && script.dataset.mode === "page"),
    open: Boolean(script && script.dataset.open === "true"),
    // Practice mode is for trainees: on the full chat page, or where a site opts in.
    practice: Boolean(script && (script.dataset.mode === "page" || script.dataset.practice === "true")),
  };

  const SESSION_KEY = "cs_session_id";
  // The server's signature of the session id: only the browser it was issued to has it.
  const TOKEN_KEY = "cs_session_token";
  // Messages sent but not yet acknowledged by the server: resent after a reconnect or
  // a reload, each with its own id, so none is lost and none handled twice.
  const OUTBOX_KEY = "cs_outbox";
  const ACK_TIMEOUT_MS = 30000;
  const RETRY_MS = 3000;
  const HISTORY_KEY = "cs_history";
  const MAX_HISTORY = 200;
  const MAX_INPUT = 2000;
  const TYPING_TIMEOUT_MS = 20000;
  const SENDERS = ["user", "bot", "staff", "notice"];
  const NOTICE_TEXT = { staff_joined: "人工客服已接入", handed_back: "已转回智能助手" };
  // ASCII only: in Chinese text a URL is usually followed directly by a character.
  const URL_PATTERN = /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&()*+,;=%]+/g;

  // ---------------------------------------------------------------- storage

  // localStorage can throw (disabled cookies, private mode): fall back to memory.
  const memory = new Map();
  const store = {
    get(key) {
      try {
        return window.localStorage.getItem(key);
      } catch {
        return memory.has(key) ? memory.get(key) : null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, value);
      } catch {
        memory.set(key, value);
      }
    },
    remove(key) {
      try {
        window.localStorage.removeItem(key);
      } catch {
        memory.delete(key);
      }
    },
  };

  /** The stored session id and its signature, or nulls: the server issues both. */
  function loadSession() {
    const id = store.get(SESSION_KEY);
    const token = store.get(TOKEN_KEY);
    if (id && token && /^[\w-]{8,128}$/.test(id) && /^[\w-]{16,128}$/.test(token)) return { id, token };
    return { id: null, token: null };
  }

  function isEntry(item) {
    return Boolean(item) && typeof item === "object" && SENDERS.includes(item.from);
  }

  function loadHistory() {
    try {
      const items = JSON.parse(store.get(HISTORY_KEY) || "[]");
      return Array.isArray(items) ? items.filter(isEntry).slice(-MAX_HISTORY) : [];
    } catch {
      return [];
    }
  }

  function saveHistory() {
    if (history.length > MAX_HISTORY) history.splice(0, history.length - MAX_HISTORY);
    store.set(HISTORY_KEY, JSON.stringify(history));
  }

  // ---------------------------------------------------------------- state

  const session = loadSession();
  let sessionId = session.id;
  let sessionToken = session.token;
  const history = loadHistory();
  let socket = null;
  let confirmed = false; // session_confirm received on the current connection
  let outbox = loadOutbox(); // [{ message, message_id }] not yet acknowledged
  let retryTimer = null;
  let typingTimer = null;
  let unread = 0;
  let ui = null;

  // ---------------------------------------------------------------- DOM helpers

  /** Creates an element; `props` are set as properties, `attrs` as attributes. */
  function el(tag, props = {}, children = [], attrs = {}) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function button(id, text, title, className = "cs-header-btn") {
    return el("button", { id, type: "button", className, textContent: text, title });
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function clock(ts) {
    const date = new Date(ts);
    if (Number.isNaN(date.getTime())) return "";
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  /** Text → nodes: line breaks become <br>, http(s) URLs become links. */
  function richText(text) {
    const fragment = document.createDocumentFragment();
    String(text).split("\n").forEach((line, index) => {
      if (index > 0) fragment.append(el("br"));
      let last = 0;
      for (const match of line.matchAll(URL_PATTERN)) {
        // Trailing ASCII punctuation usually ends the sentence, not the URL.
        const url = match[0].replace(/[.,;:!?)\]]+$/, "");
        if (match.index > last) fragment.append(line.slice(last, match.index));
        fragment.append(
          el("a", { href: url, textContent: url, target: "_blank", rel: "noopener noreferrer" })
        );
        last = match.index + url.length;
      }
      if (last < line.length) fragment.append(line.slice(last));
    });
    return fragment;
  }

  function safeImageUrl(src) {
    try {
      const url = new URL(String(src), ORIGIN);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- building the UI

  function chatIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"
    );
    svg.append(path);
    return svg;
  }

  function option(value, text) {
    return el("option", { value, textContent: text });
  }

  function scoreSelect(id, labels) {
    const select = el("select", { id, required: true }, [option("", "请选择")]);
    labels.forEach((label, i) => select.append(option(String(i + 1), `${i + 1} 分 · ${label}`)));
    return select;
  }

  function buildRating() {
    const error = el("p", { id: "cs-rating-error", className: "cs-form-error", hidden: true }, [], {
      role: "alert",
    });
    const form = el("form", { id: "cs-rating", className: "cs-rating", noValidate: true }, [
      el("h3", { textContent: "服务评价" }),
      el("label", { htmlFor: "cs-expected", textContent: "您对本次服务的期望" }),
      scoreSelect("cs-expected", ["很低", "较低", "一般", "较高", "很高"]),
      el("label", { htmlFor: "cs-perceived", textContent: "您实际感受到的服务" }),
      scoreSelect("cs-perceived", ["很差", "较差", "一般", "较好", "很好"]),
      el("label", { htmlFor: "cs-comment", textContent: "其他意见（选填）" }),
      el("textarea", { id: "cs-comment", rows: 3, maxLength: MAX_INPUT, placeholder: "欢迎留下您的建议" }),
      error,
      el("div", { className: "cs-form-actions" }, [
        el("button", { type: "button", className: "cs-btn-secondary cs-rating-cancel", textContent: "取消" }),
        el("button", { id: "cs-rating-submit", type: "submit", className: "cs-btn-primary", textContent: "提交评价" }),
      ]),
    ]);
    const done = el("div", { id: "cs-rating-done", className: "cs-rating-done", hidden: true }, [
      el("p", { textContent: "感谢您的评价！" }),
      el("button", { type: "button", className: "cs-btn-secondary cs-rating-cancel", textContent: "关闭" }),
    ]);
    const overlay = el("div", { className: "cs-overlay", hidden: true }, [form, done]);
    return { overlay, form, done, error };
  }

  function buildUi() {
    const launcher = el("button", { id: "cs-launcher", type: "button", className: "cs-launcher" }, [
      chatIcon(),
      el("span", { className: "cs-badge", hidden: true }),
    ], { "aria-label": "打开在线客服", "aria-expanded": "false", "aria-controls": "cs-widget" });

    const title = el("div", { className: "cs-title", textContent: options.title });
    const status = el("div", { className: "cs-status", textContent: "智能助手 · 在线" });
    const header = el("header", { className: "cs-header" }, [
      el("div", { className: "cs-avatar", textContent: "智" }, [], { "aria-hidden": "true" }),
      el("div", { className: "cs-heading" }, [title, status]),
      options.practice ? button("cs-practice", "练习", "学员异议处理练习") : null,
      button("cs-rate-open", "评价", "评价本次服务"),
      button("cs-new", "新对话", "开始新对话"),
      options.page ? null : button("cs-close", "×", "收起对话", "cs-header-btn cs-close"),
    ]);

    const offline = el("div", { id: "cs-offline", className: "cs-offline", textContent: "连接中断，正在重连…", hidden: true }, [], { role: "status" });
    const empty = el("div", { className: "cs-empty" }, [
      el("p", { className: "cs-empty-title", textContent: "您好，我是小智 👋" }),
      el("p", { textContent: "商品咨询、订单查询、退换货、维修、投诉都可以问我，也可以随时转人工客服。" }),
    ]);
    const messages = el("div", { id: "cs-messages", className: "cs-messages" }, [empty], {
      role: "log",
      "aria-live": "polite",
    });
    const typing = el("div", { id: "cs-typing", className: "cs-typing" }, [
      el("span", { className: "cs-dots" }, [el("i"), el("i"), el("i")]),
      el("span", { textContent: "正在输入…" }),
    ], { "aria-live": "polite" });
    typing.style.display = "none";

    const input = el("textarea", {
      id: "cs-input",
      rows: 1,
      maxLength: MAX_INPUT,
      placeholder: "请输入您的问题（Enter 发送，Shift+Enter 换行）",
    }, [], { "aria-label": "输入消息" });
    const counter = el("span", { className: "cs-counter", hidden: true });
    const send = el("button", { id: "cs-send", type: "button", className: "cs-send", textContent: "发送" });
    const composer = el("div", { className: "cs-composer" }, [input, counter, send]);

    // The privacy notice (PIPL): filled from the server, which knows the retention period.
    const privacy = el("p", { id: "cs-privacy", className: "cs-privacy", hidden: true }, [], { role: "note" });
    const rating = buildRating();
    // The rating overlay covers the body only: the header buttons stay usable.
    const body = el("div", { className: "cs-body" }, [offline, messages, typing, composer, privacy, rating.overlay]);
    const panel = el("section", { id: "cs-widget", className: "cs-panel", hidden: true }, [header, body], {
      role: options.page ? "main" : "dialog",
      "aria-label": options.title,
    });

    const root = el("div", { id: "cs-root", className: `cs-root ${options.page ? "cs-mode-page" : "cs-mode-widget"}` }, [panel, launcher]);
    // Invisible until chat.css arrives, so the shop never sees an unstyled flash.
    root.style.visibility = "hidden";
    if (options.page) launcher.hidden = true;

    return { root, launcher, panel, status, offline, messages, empty, typing, input, counter, send, privacy, rating };
  }

  // ---------------------------------------------------------------- messages

  function quickReplies(entry, active) {
    const row = el("div", { className: "cs-quick-replies" });
    for (const choice of entry.buttons) {
      const chip = el("button", {
        type: "button",
        className: "cs-quick-reply",
        textContent: choice.title,
        disabled: !active,
      });
      chip.addEventListener("click", () => {
        chip.classList.add("cs-chosen");
        sendMessage(choice.payload, choice.title);
      });
      row.append(chip);
    }
    return row;
  }

  function renderEntry(entry, chipsActive) {
    const msg = el("div", { className: `cs-msg cs-${entry.from}` });
    if (entry.from === "notice") {
      msg.append(el("span", { className: "cs-text", textContent: entry.text || "" }));
      msg.append(el("span", { className: "cs-time", textContent: clock(entry.ts) }));
      return msg;
    }
    if (entry.from === "staff") {
      msg.append(el("div", { className: "cs-sender", textContent: `人工客服 ${entry.staff || ""}`.trim() }));
    }
    const bubble = el("div", { className: "cs-bubble" });
    if (entry.text) bubble.append(el("div", { className: "cs-text" }, [richText(entry.text)]));
    const src = entry.image ? safeImageUrl(entry.image) : null;
    if (src) {
      const link = el("a", { href: src, target: "_blank", rel: "noopener noreferrer" });
      link.append(el("img", { className: "cs-image", src, alt: "图片", loading: "lazy" }));
      bubble.append(link);
    }
    msg.append(bubble);
    if (Array.isArray(entry.buttons) && entry.buttons.length) msg.append(quickReplies(entry, chipsActive));
    msg.append(el("div", { className: "cs-time", textContent: clock(entry.ts) }));
    return msg;
  }

  function scrollToEnd() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function refreshEmptyState() {
    show(ui.empty, history.length === 0);
  }

  /** Adds a message to the list and to the stored history. */
  function addEntry(entry) {
    history.push(entry);
    saveHistory();
    ui.messages.append(renderEntry(entry, true));
    refreshEmptyState();
    scrollToEnd();
    if (entry.from !== "user") noteUnread();
    if (entry.from === "notice") updateStatus();
  }

  function renderHistory() {
    ui.messages.querySelectorAll(".cs-msg").forEach((node) => node.remove());
    const lastUser = history.map((entry) => entry.from).lastIndexOf("user");
    history.forEach((entry, index) => ui.messages.append(renderEntry(entry, index > lastUser)));
    refreshEmptyState();
    updateStatus();
    scrollToEnd();
  }

  /** Once the customer has answered, the choices offered before are stale. */
  function disableQuickReplies() {
    ui.messages.querySelectorAll(".cs-quick-reply").forEach((chip) => {
      chip.disabled = true;
    });
  }

  /** Header line: who is answering, derived from the latest notice. */
  function updateStatus() {
    const last = [...history].reverse().find((entry) => entry.from === "notice" && entry.notice);
    const staff = last && last.notice === "staff_joined" ? last.staff : null;
    ui.status.textContent = last && last.notice === "staff_joined"
      ? `人工客服${staff ? ` ${staff}` : ""} 为您服务`
      : "智能助手 · 在线";
  }

  function cleanChoices(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter((b) => b && b.title != null && b.payload != null)
      .map((b) => ({ title: String(b.title), payload: String(b.payload) }));
  }

  function attachmentImage(attachment) {
    if (!attachment || typeof attachment !== "object") return null;
    const payload = attachment.payload || {};
    if (attachment.type === "image") return payload.src || payload.url || null;
    return null;
  }

  /** A bot_uttered payload → a history entry, or null when there is nothing to show. */
  function toEntry(payload) {
    if (typeof payload === "string") payload = { text: payload };
    if (!payload || typeof payload !== "object") return null;
    // A custom payload may carry the same fields one level down.
    const custom = payload.custom && typeof payload.custom === "object" ? payload.custom : {};
    const field = (name) => (payload[name] != null ? payload[name] : custom[name]);

    const staff = field("staff") ? String(field("staff")) : null;
    const notice = field("notice") ? String(field("notice")) : null;
    let text = field("text") != null ? String(field("text")) : "";
    const image = field("image") || attachmentImage(field("attachment"));
    const buttons = cleanChoices(field("buttons")).concat(cleanChoices(field("quick_replies")));
    const ts = Date.now();

    if (notice) {
      if (!text) text = notice === "staff_joined" && staff ? `人工客服 ${staff} 已接入` : NOTICE_TEXT[notice] || "";
      return text ? { from: "notice", text, buttons: [], staff, ts, notice } : null;
    }
    if (!text && !image && !buttons.length) return null;
    const entry = { from: staff ? "staff" : "bot", text, buttons, staff, ts };
    if (image) entry.image = String(image);
    return entry;
  }

  // ---------------------------------------------------------------- typing and unread

  function setTyping(visible) {
    clearTimeout(typingTimer);
    ui.typing.style.display = visible ? "" : "none";
    if (visible) {
      typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  function isOpen() {
    return !ui.panel.hidden;
  }

  function noteUnread() {
    if (isOpen()) return;
    unread += 1;
    const badge = ui.launcher.querySelector(".cs-badge");
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = false;
  }

  function setOpen(open) {
    show(ui.panel, open || options.page);
    ui.launcher.setAttribute("aria-expanded", String(isOpen()));
    ui.launcher.classList.toggle("cs-launcher-open", isOpen());
    if (isOpen()) {
      unread = 0;
      ui.launcher.querySelector(".cs-badge").hidden = true;
      scrollToEnd();
      // Focusing would pop up the keyboard on phones and scroll the shop page.
      if (!options.page && window.matchMedia("(pointer: fine)").matches) ui.input.focus();
    }
  }

  // ---------------------------------------------------------------- sending

  function newMessageId() {
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function loadOutbox() {
    try {
      const items = JSON.parse(store.get(OUTBOX_KEY) || "[]");
      return Array.isArray(items)
        ? items.filter((item) => item && typeof item.message === "string" && typeof item.message_id === "string")
        : [];
    } catch {
      return [];
    }
  }

  function saveOutbox() {
    store.set(OUTBOX_KEY, JSON.stringify(outbox));
  }

  /** Sends one outbox entry; it leaves the outbox only when the server acknowledges it. */
  function emit(entry) {
    if (!(socket && socket.connected && confirmed)) return;
    const payload = { message: entry.message, message_id: entry.message_id, session_id: sessionId };
    socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", payload, (error, reply) => {
      const status = reply && reply.status;
      if (!error && (status === "received" || status === "refused")) {
        outbox = outbox.filter((item) => item.message_id !== entry.message_id);
        saveOutbox();
      } else {
        // No answer in time, or still being handled elsewhere: try again shortly.
        scheduleRetry();
      }
    });
  }

  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = window.setTimeout(() => {
      retryTimer = null;
      flushOutbox();
    }, RETRY_MS);
  }

  function deliver(message) {
    const entry = { message, message_id: newMessageId() };
    outbox.push(entry);
    saveOutbox();
    emit(entry);
  }

  /** Every unacknowledged message, in order (typed before the session was confirmed,
   * or while the server was away); the server drops what it already handled. */
  function flushOutbox() {
    outbox.forEach(emit);
  }

  /**
   * Sends `text` as the customer's message; `shown` is what the bubble says
   * (a quick reply sends its payload but shows its title).
   */
  function sendMessage(text, shown) {
    const message = String(text == null ? "" : text).trim().slice(0, MAX_INPUT);
    if (!message) return false;
    disableQuickReplies();
    const bubble = shown != null ? String(shown) : message;
    addEntry({ from: "user", text: bubble, buttons: [], staff: null, ts: Date.now() });
    deliver(message);
    setTyping(true);
    return true;
  }

  /** Trainees: the bot plays a customer with an objection and scores each reply. The
   * invitation code from the trainer decides whose practice it is (not a typed name). */
  function startPractice() {
    const code = (window.prompt("请输入培训老师发放的练习邀请码") || "").trim().slice(0, 32);
    if (!code) return;
    sendMessage(`/practice${JSON.stringify({ invitation: code })}`, "开始异议处理练习（已输入邀请码）");
  }

  function submitInput() {
    if (sendMessage(ui.input.value)) {
      ui.input.value = "";
      onInputChange();
    }
  }

  function onInputChange() {
    const input = ui.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    const length = input.value.length;
    ui.counter.textContent = `${length}/${MAX_INPUT}`;
    show(ui.counter, length > MAX_INPUT * 0.9);
    // Not `disabled`: an empty send is simply ignored (see sendMessage).
    ui.send.classList.toggle("cs-send-idle", !input.value.trim());
  }

  function onInputKey(event) {
    // isComposing / 229: Enter is confirming a pinyin candidate, not sending.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submitInput();
  }

  function newConversation() {
    forgetSession();
    history.length = 0;
    saveHistory();
    outbox = [];
    saveOutbox();
    setTyping(false);
    closeRating();
    renderHistory();
    // Leave the old session's room: the server remembers rooms per connection.
    if (socket) {
      confirmed = false;
      socket.disconnect();
      socket.connect();
    }
    ui.input.focus();
  }

  // ---------------------------------------------------------------- rating

  function openRating() {
    const { overlay, form, done, error } = ui.rating;
    form.reset();
    show(error, false);
    show(form, true);
    show(done, false);
    show(overlay, true);
    form.querySelector("#cs-expected").focus();
  }

  function closeRating() {
    show(ui.rating.overlay, false);
  }

  function ratingError(message) {
    ui.rating.error.textContent = message;
    show(ui.rating.error, Boolean(message));
  }

  async function submitRating(event) {
    event.preventDefault();
    const form = ui.rating.form;
    const expected = Number.parseInt(form.querySelector("#cs-expected").value, 10);
    const perceived = Number.parseInt(form.querySelector("#cs-perceived").value, 10);
    if (!expected || !perceived) {
      ratingError("请选择“期望”和“实际感受”两项评分");
      return;
    }
    ratingError("");
    const submit = form.querySelector("#cs-rating-submit");
    submit.disabled = true;
    try {
      const response = await fetch(`${ORIGIN}/webhooks/chat/rating`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          session_id: sessionId,
          session_token: sessionToken,
          expected,
          perceived,
          comment: form.querySelector("#cs-comment").value.trim(),
        }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        ratingError(data.error || "评价提交失败，请稍后再试");
        return;
      }
      ui.rating.done.dataset.satisfaction = String(data.satisfaction ?? "");
      show(form, false);
      show(ui.rating.done, true);
      ui.rating.done.querySelector("button").focus();
    } catch {
      ratingError("网络异常，评价未能提交，请稍后再试");
    } finally {
      submit.disabled = false;
    }
  }

  // ---------------------------------------------------------------- connection

  function setOffline(offline) {
    show(ui.offline, offline);
  }

  function onBotUttered(payload) {
    setTyping(false);
    const entry = toEntry(payload);
    if (entry) addEntry(entry);
  }

  function forgetSession() {
    sessionId = null;
    sessionToken = null;
    store.remove(SESSION_KEY);
    store.remove(TOKEN_KEY);
  }

  /** The server confirms the session it issued (or the one this browser proved it holds). */
  function onSessionConfirm(data) {
    const id = data && typeof data === "object" ? data.session_id : null;
    const token = data && typeof data === "object" ? data.session_token : null;
    if (typeof id !== "string" || typeof token !== "string") return;
    if (sessionId && id !== sessionId) {
      // Not ours any more (expired signature, or issued elsewhere): a new conversation.
      history.length = 0;
      saveHistory();
      renderHistory();
    }
    sessionId = id;
    sessionToken = token;
    store.set(SESSION_KEY, id);
    store.set(TOKEN_KEY, token);
    confirmed = true;
    flushOutbox();
  }

  function connect(io) {
    socket = io(ORIGIN, { path: "/socket.io", transports: ["websocket", "polling"] });
    socket.on("connect", () => {
      confirmed = false;
      setOffline(false);
      socket.emit("session_request", { session_id: sessionId, session_token: sessionToken });
    });
    socket.on("session_confirm", onSessionConfirm);
    socket.on("bot_uttered", onBotUttered);
    socket.on("disconnect", (reason) => {
      confirmed = false;
      // Our own disconnect (new conversation) reconnects at once: no banner.
      if (reason !== "io client disconnect") setOffline(true);
    });
    socket.on("connect_error", () => setOffline(true));
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const tag = el("script", { src, async: true });
      tag.onload = resolve;
      tag.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.append(tag);
    });
  }

  /** Loads the vendored socket.io-client without taking over a window.io the shop has. */
  async function loadSocketIo() {
    const previous = window.io;
    await loadScript(`${ORIGIN}/webhooks/chat/static/vendor/socket.io.min.js`);
    const io = window.io;
    if (previous) window.io = previous;
    return io;
  }

  function loadStyles() {
    const href = `${ORIGIN}/webhooks/chat/static/chat.css`;
    const reveal = () => {
      ui.root.style.visibility = "";
    };
    const link = el("link", { rel: "stylesheet", href });
    link.onload = reveal;
    link.onerror = reveal;
    setTimeout(reveal, 3000); // never stay invisible because of a slow stylesheet
    document.head.append(link);
  }

  // ---------------------------------------------------------------- start

  function bindEvents() {
    ui.launcher.addEventListener("click", () => setOpen(!isOpen()));
    ui.panel.querySelector("#cs-new").addEventListener("click", newConversation);
    ui.panel.querySelector("#cs-rate-open").addEventListener("click", openRating);
    const practice = ui.panel.querySelector("#cs-practice");
    if (practice) practice.addEventListener("click", startPractice);
    const close = ui.panel.querySelector("#cs-close");
    if (close) close.addEventListener("click", () => setOpen(false));
    ui.panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (!ui.rating.overlay.hidden) closeRating();
      else if (!options.page) setOpen(false);
    });
    ui.send.addEventListener("click", submitInput);
    ui.input.addEventListener("keydown", onInputKey);
    ui.input.addEventListener("input", onInputChange);
    ui.rating.form.addEventListener("submit", submitRating);
    ui.rating.form.addEventListener("change", () => ratingError(""));
    ui.rating.overlay.querySelectorAll(".cs-rating-cancel").forEach((b) => b.addEventListener("click", closeRating));
  }

  function start() {
    ui = buildUi();
    document.body.append(ui.root);
    if (options.page) document.documentElement.classList.add("cs-page");
    loadStyles();
    bindEvents();
    renderHistory();
    onInputChange();
    setOpen(options.open || options.page);
    loadSocketIo().then(connect, () => setOffline(true));
    loadPrivacyNotice();
  }

  async function loadPrivacyNotice() {
    try {
      const response = await fetch(`${ORIGIN}/webhooks/chat/privacy`);
      const data = await response.json();
      if (!response.ok || typeof data.notice !== "string") return;
      ui.privacy.textContent = data.notice;
      ui.privacy.hidden = false;
    } catch {
      // Without the server there is no chat either: the offline banner says so.
    }
  }

  window.csWidget = {
    get sessionId() {
      return sessionId;
    },
    send: (text) => sendMessage(text),
  };

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
