// Manager reports. Uses the console login (token in sessionStorage); every label and
// value is put in the page with textContent, never as HTML.
(function () {
  "use strict";

  const token = window.csStaffApi.token();
  const get = window.csStaffApi.request;
  const api = "/webhooks/console/api/reports";
  const $ = (selector) => document.querySelector(selector);

  function fail(message) {
    const box = $("#report-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function query() {
    const params = new URLSearchParams();
    if ($("#since").value) params.set("since", $("#since").value);
    if ($("#until").value) params.set("until", $("#until").value);
    const text = params.toString();
    return text ? `?${text}` : "";
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text != null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  async function download(name) {
    try {
      const blob = await (await get(`${api}/${name}.csv${query()}`)).blob();
      const link = element("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${name}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (error) {
      fail(error.message);
    }
  }

  async function chart(name, title) {
    const image = element("img", null, "chart");
    image.alt = title;
    try {
      const blob = await (await get(`${api}/chart/${name}.png${query()}`)).blob();
      image.src = URL.createObjectURL(blob);
    } catch (error) {
      image.alt = `${title}（${error.message}）`;
    }
    return image;
  }

  function table(data) {
    const box = element("div", null, "report-table");
    box.dataset.table = data.name;
    const heading = element("h3", data.title);
    const button = element("button", "导出 CSV", "btn small ghost");
    button.type = "button";
    button.addEventListener("click", () => download(data.name));
    heading.append(button);
    box.append(heading);
    if (!data.rows.length) {
      box.append(element("p", "（无数据）", "muted"));
      return box;
    }
    const grid = element("table");
    const head = element("tr");
    data.headers.forEach((header) => head.append(element("th", header)));
    grid.append(element("thead"));
    grid.tHead.append(head);
    const body = element("tbody");
    for (const row of data.rows) {
      const line = element("tr", null, data.name === "overdue" && row.minutes_left < 0 ? "overdue" : "");
      data.columns.forEach((key) => line.append(element("td", row[key] == null ? "-" : row[key])));
      body.append(line);
    }
    grid.append(body);
    box.append(grid);
    return box;
  }

  async function load() {
    fail("");
    if (!token) return fail("请先在人工坐席工作台登录");
    try {
      const report = await (await get(`${api}${query()}`)).json();
      $("#report-title").textContent = report.title;
      $("#period-label").textContent = `统计区间：${report.period.label}，生成于 ${report.generated_at}`;
      $("#since").value = report.period.since;
      $("#until").value = report.period.until;
      if (!report.conversations_read) fail("未能读取会话记录，会话分析为空。");
      const sections = $("#sections");
      sections.replaceChildren();
      for (const section of report.sections) {
        const box = element("section");
        box.append(element("h2", section.title));
        for (const name of section.tables) {
          box.append(table(report.tables[name]));
          const chartName = report.chart_after[name];
          if (chartName) box.append(await chart(chartName, report.charts[chartName]));
        }
        sections.append(box);
      }
    } catch (error) {
      fail(error.message);
    }
  }

  $("#period").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
})();
