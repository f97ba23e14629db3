// The staff pages' one way to call the console API (practice, reports, review): the
// console login's token from sessionStorage, and Chinese errors for a missing login,
// a network failure or a refused request.
(function () {
  "use strict";

  const TOKEN_KEY = "cs_staff_token";

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** The response of a successful call; throws an Error with a message to show. */
  async function request(path, options = {}) {
    const headers = { Authorization: `Bearer ${token()}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { ...options, headers });
    } catch {
      throw new Error("网络异常，无法连接服务器，请稍后重试");
    }
    if (response.status === 401) throw new Error("请先在人工坐席工作台登录");
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.error || `请求失败（${response.status}）`);
    }
    return response;
  }

  async function json(path, options) {
    return (await request(path, options)).json();
  }

  window.csStaffApi = Object.freeze({ token, request, json });
})();
