// Trainer view of practice progress. Uses the console login (token in sessionStorage);
// every name and text is put in the page with textContent, never as HTML.
(function () {
  "use strict";

  const token = window.csStaffApi.token();
  const get = window.csStaffApi.request;
  const api = "/webhooks/console/api/practice";
  const $ = (selector) => document.querySelector(selector);

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "-" : String(text);
    row.append(td);
  }

  function fail(message) {
    const box = $("#practice-error");
    box.textContent = message;
    box.hidden = false;
  }

  async function showTrainee(name) {
    const progress = await (await get(`${api}/trainee?name=${encodeURIComponent(name)}`)).json();
    $("#detail").hidden = false;
    $("#detail-title").textContent = `${name} 的练习`;
    const weakest = progress.weakest.rubric.join("、") || "-";
    $("#detail-summary").textContent =
      `完成 ${progress.finished} 场，平均分 ${progress.mean_score ?? "-"}，最需加强：${weakest}`;
    const chart = await get(`${api}/chart.png?name=${encodeURIComponent(name)}`).catch(() => null);
    const image = $("#chart");
    if (chart) image.src = URL.createObjectURL(await chart.blob());
    image.hidden = !chart;
    const body = $("#sessions");
    body.replaceChildren();
    for (const session of progress.sessions.slice().reverse()) {
      const row = document.createElement("tr");
      [session.started_at, session.scenario_id, session.objection_type, session.outcome,
        session.score].forEach((value) => cell(row, value));
      body.append(row);
    }
  }

  async function load() {
    if (!token) return fail("请先在人工坐席工作台登录");
    try {
      const overview = await (await get(api)).json();
      const body = $("#trainees");
      for (const trainee of overview.trainees) {
        const row = document.createElement("tr");
        row.className = "trainee-row";
        row.dataset.trainee = trainee.trainee;
        [trainee.trainee, trainee.sessions, trainee.mean_score, trainee.last_session,
          trainee.weakest.rubric.join("、")].forEach((value) => cell(row, value));
        row.addEventListener("click", () => showTrainee(trainee.trainee).catch((e) => fail(e.message)));
        body.append(row);
      }
      const techniques = Object.entries(overview.by_technique)
        .map(([key, score]) => `${overview.technique_names[key] || key} ${score}`).join("、");
      $("#team").textContent = `全队各技巧平均分：${techniques || "-"}`;
    } catch (error) {
      fail(error.message);
    }
  }

  async function invite(event) {
    event.preventDefault();
    const trainee = $("#invite-trainee").value.trim();
    if (!trainee) return;
    try {
      const created = await window.csStaffApi.json(`${api}/invitations`, {
        method: "POST", body: JSON.stringify({ trainee }),
      });
      $("#invite-result").textContent =
        `${created.trainee} 的邀请码：${created.code}（${created.valid_days} 天内有效；` +
        `在聊天窗口发送 ${created.payload} 开始练习）`;
    } catch (error) {
      fail(error.message);
    }
  }

  $("#invite").addEventListener("submit", invite);
  load();
})();
