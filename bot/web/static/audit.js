// Audit log (managers only). Uses the console login through staff_api.js; every value
// is put in the page with textContent, never as HTML.
(function () {
  "use strict";

  const api = "/webhooks/console/api/audit";
  const call = window.csStaffApi.json;
  const $ = (selector) => document.querySelector(selector);
  const ROLES = { agent: "坐席", manager: "主管" };
  let offset = 0;

  function fail(message) {
    const box = $("#audit-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function row(entry) {
    const tr = document.createElement("tr");
    for (const value of [entry.at, entry.staff, ROLES[entry.role] || entry.role || "-",
      entry.action_name, entry.target || "-", entry.address || "-"]) {
      const td = document.createElement("td");
      td.textContent = value == null ? "-" : String(value);
      tr.append(td);
    }
    return tr;
  }

  function fillActions(names) {
    const select = $("#action");
    if (select.options.length > 1) return;
    for (const [key, name] of Object.entries(names)) {
      const option = document.createElement("option");
      option.value = key;
      option.textContent = name;
      select.append(option);
    }
  }

  async function load(more) {
    fail("");
    if (!window.csStaffApi.token()) return fail("请先在人工坐席工作台登录");
    offset = more ? offset : 0;
    const params = new URLSearchParams({ offset: String(offset) });
    if ($("#staff").value.trim()) params.set("staff", $("#staff").value.trim());
    if ($("#action").value) params.set("action", $("#action").value);
    try {
      const data = await call(`${api}?${params.toString()}`);
      fillActions(data.actions);
      const body = $("#entries");
      if (!more) body.replaceChildren();
      data.entries.forEach((entry) => body.append(row(entry)));
      offset += data.entries.length;
      $("#total").textContent = `共 ${data.total} 条`;
      $("#more").hidden = offset >= data.total;
    } catch (error) {
      fail(error.message);
    }
  }

  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  $("#more").addEventListener("click", () => load(true));
  load(false);
})();
