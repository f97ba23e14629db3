// Review queue (四个不漏). Uses the console login (token in sessionStorage); every
// customer and bot text is put in the page with textContent, never as HTML.
(function () {
  "use strict";

  const token = window.csStaffApi.token();
  const call = window.csStaffApi.json;
  const api = "/webhooks/console/api/review";
  const $ = (selector) => document.querySelector(selector);
  let labels = [];

  function fail(message) {
    const box = $("#review-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function notice(message) {
    $("#notice").textContent = message;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text != null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function fillSelect(select, names) {
    if (select.options.length > 1) return;
    for (const [key, name] of Object.entries(names)) {
      const option = element("option", name);
      option.value = key;
      select.append(option);
    }
  }

  function contextLine(box, who, text) {
    if (!text) return;
    const line = element("p");
    line.append(element("span", who, "who"), document.createTextNode(text));
    box.append(line);
  }

  function card(item) {
    const box = element("article", null, "item");
    box.dataset.item = item.id;
    const meta = element("div", null, "meta");
    meta.append(
      element("span", item.status_name, `badge ${item.status}`),
      element("span", item.reason_name),
      element("span", `识别为：${item.predicted_name || item.predicted_intent || "-"}` +
        (item.confidence == null ? "" : `（${item.confidence}）`)),
      element("span", item.created_at),
      element("span", `会话 ${item.conversation_id}`),
    );
    const context = element("div", null, "context");
    contextLine(context, "机器人（之前）：", item.context.bot_before);
    const said = element("p", null, "text");
    said.append(element("span", "客户：", "who"), document.createTextNode(item.text));
    context.append(said);
    contextLine(context, "机器人回复：", item.context.bot_reply);
    contextLine(context, "客户接着说：", item.context.customer_next);

    const row = element("div", null, "label");
    const picker = element("select");
    picker.append(element("option", "请选择正确的意图…"));
    picker.options[0].value = "";
    for (const choice of labels) {
      const option = element("option", `${choice.name}（${choice.key}）`);
      option.value = choice.key;
      picker.append(option);
    }
    picker.value = item.label || "";
    const save = element("button", "保存", "btn small");
    save.type = "button";
    const saved = element("span", null, "saved");
    if (item.labelled_by) saved.textContent = `${item.labelled_by} 标注于 ${item.labelled_at}`;
    if (item.status === "exported") {
      picker.disabled = true;
      save.disabled = true;
      saved.textContent = `已导出：${item.export_note || ""}`;
    }
    save.addEventListener("click", async () => {
      if (!picker.value) return fail("请先选择意图");
      try {
        const body = await call(`${api}/${item.id}/label`, {
          method: "POST", body: JSON.stringify({ label: picker.value }),
        });
        fail("");
        saved.textContent = `已保存：${body.item.label_name}`;
      } catch (error) {
        fail(error.message);
      }
    });
    row.append(picker, save, saved);
    box.append(meta, context, row);
    return box;
  }

  async function load() {
    fail("");
    if (!token) return fail("请先在人工坐席工作台登录");
    const params = new URLSearchParams();
    if ($("#status").value) params.set("status", $("#status").value);
    if ($("#reason").value) params.set("reason", $("#reason").value);
    try {
      const data = await call(`${api}?${params.toString()}`);
      labels = data.labels;
      fillSelect($("#status"), data.statuses);
      fillSelect($("#reason"), data.reasons);
      $("#counts").textContent = Object.entries(data.counts)
        .map(([key, count]) => `${data.statuses[key]} ${count}`).join(" · ");
      const list = $("#items");
      list.replaceChildren(...data.items.map(card));
      if (!data.items.length) list.append(element("p", "（没有符合条件的消息）", "muted"));
    } catch (error) {
      fail(error.message);
    }
  }

  function showRecheck(result) {
    const section = $("#recheck-result");
    section.hidden = false;
    $("#recheck-title").textContent =
      `重新识别（${result.checked_at}）：${result.fixed}/${result.total} 条现在识别正确`;
    const table = $("#recheck-table");
    table.replaceChildren();
    const head = element("tr");
    result.table.headers.forEach((header) => head.append(element("th", header)));
    table.append(head);
    for (const row of result.table.rows) {
      const line = element("tr");
      result.table.columns.forEach((key) => line.append(element("td", row[key] == null ? "-" : row[key])));
      table.append(line);
    }
  }

  async function action(button, path, describe) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const body = await call(path, { method: "POST" });
        // The list first, then the notice: whoever acts on the notice (a person, or the
        // browser test) sees the list it speaks of, not the one about to be replaced.
        await load();
        notice(describe(body));
      } catch (error) {
        fail(error.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  action($("#scan"), `${api}/scan`, (body) => `新加入 ${body.queued} 条`);
  action($("#export"), `${api}/export`, (body) =>
    `导出 ${body.exported} 条，跳过 ${body.skipped.length} 条（测试集或已有的训练数据）`);
  $("#recheck").addEventListener("click", async () => {
    try {
      showRecheck(await call(`${api}/recheck`, { method: "POST" }));
    } catch (error) {
      fail(error.message);
    }
  });
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
  call(`${api}/recheck`).then(showRecheck).catch(() => null);
})();
