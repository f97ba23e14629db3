"""The human handoff end to end in headless Chromium (Debian's), two roles at once.

A customer chats in the web widget and asks for a human; a staff member logs in to
the console, sees the ticket, reads the transcript and replies; the customer sees
the reply in real time; staff hand back; the bot answers again; the customer rates
the conversation. Screenshots of both pages go to results/browser/.
"""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import (
    AGENT_USER,
    PROJECT_ROOT,
    STAFF_PASSWORD,
    STAFF_USER,
    Stack,
    wait_until,
)
from e2e.test_review import send_misses

SHOTS = PROJECT_ROOT / "results" / "browser"
XSS = '<img src=x onerror="window.__xss=1">'


def send(customer: Page, text: str) -> None:
    customer.fill("#cs-input", text)
    customer.click("#cs-send")


def last_bot_text(customer: Page) -> str:
    return customer.locator(".cs-msg.cs-bot .cs-text").last.inner_text()


def test_customer_and_staff_handoff(stack: Stack, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer = browser.new_context(locale="zh-CN").new_page()
    staff = browser.new_context(locale="zh-CN").new_page()

    # The customer chats with the bot, then asks for a human.
    customer.goto(f"{stack.url}/webhooks/chat/")
    # The privacy notice: how long the conversation is kept, how to be forgotten.
    expect(customer.locator("#cs-privacy")).to_contain_text("180 天")
    expect(customer.locator("#cs-privacy")).to_contain_text("删除")
    send(customer, "风尊空调多少钱")
    expect(customer.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("2,999")
    send(customer, XSS)
    expect(customer.locator(".cs-msg.cs-user .cs-text").last).to_have_text(XSS)
    send(customer, "转人工")
    expect(customer.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("TK")
    session_id = customer.evaluate("window.csWidget.sessionId")

    # The conversation survives a reload.
    customer.reload()
    expect(customer.locator(".cs-msg.cs-user .cs-text").first).to_have_text("风尊空调多少钱")

    # Staff: a wrong password is refused, the right one opens the queue.
    staff.goto(f"{stack.url}/webhooks/console/")
    staff.fill("#login-user", STAFF_USER)
    staff.fill("#login-password", "not-the-password")
    staff.click("#login-submit")
    expect(staff.locator("#login-error")).not_to_be_empty()
    staff.fill("#login-password", STAFF_PASSWORD)
    staff.click("#login-submit")
    expect(staff.locator("#staff-name")).to_contain_text(STAFF_USER)
    row = staff.locator(".ticket-row").filter(has_text="转人工").first
    expect(row).to_be_visible(timeout=15_000)

    # Live update: another customer's handoff appears without a reload, well
    # before the console's 15 s safety poll.
    rows = staff.locator(".ticket-row")
    before = rows.count()
    other = f"e2e-live-{session_id[:8]}"
    assert "TK" in stack.texts(other, "我要人工客服")
    expect(rows).to_have_count(before + 1, timeout=8_000)
    # Until someone joins, the waiting customer is reassured, not left in silence.
    assert "队列" in stack.texts(other, "还要等多久")
    row.click()

    # The full transcript, customer text shown as text (no injected element).
    transcript = staff.locator("#transcript")
    user_lines = transcript.locator(".line.user .text")
    expect(user_lines.filter(has_text="风尊空调多少钱")).to_have_count(1)
    expect(transcript.locator(".line.user .text").filter(has_text=XSS)).to_have_count(1)
    assert transcript.locator("img").count() == 0
    assert staff.evaluate("window.__xss") is None

    # A canned reply is one click away; staff reply in real time.
    staff.locator(".canned-reply").first.click()
    assert staff.input_value("#reply-input").strip()
    staff.fill("#reply-input", "您好，我是人工客服小王，风尊空调现在有优惠")
    staff.click("#reply-send")
    expect(customer.locator(".cs-msg.cs-notice").last).to_contain_text("已接入", timeout=5_000)
    expect(customer.locator(".cs-msg.cs-staff .cs-text").last).to_have_text(
        "您好，我是人工客服小王，风尊空调现在有优惠", timeout=5_000
    )
    # The customer answers the human; staff see it live.
    send(customer, "好的谢谢 那我下单了")
    expect(transcript.locator(".line.user .text").last).to_have_text(
        "好的谢谢 那我下单了", timeout=10_000
    )
    staff.screenshot(path=str(SHOTS / "console.png"), full_page=True)

    # Hand back: the bot answers the next question.
    staff.click("#handback")
    expect(customer.locator(".cs-msg.cs-notice").last).to_contain_text("已转回智能助手")
    send(customer, "小米14多少钱")
    expect(customer.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("3,999")

    # The customer rates the conversation: expected 4, perceived 5.
    customer.click("#cs-rate-open")
    customer.select_option("#cs-expected", "4")
    customer.select_option("#cs-perceived", "5")
    customer.click("#cs-rating-submit")
    expect(customer.locator("#cs-rating-done")).to_be_visible()
    customer.screenshot(path=str(SHOTS / "customer.png"), full_page=True)

    with sqlite3.connect(stack.db_path) as connection:
        ratings = connection.execute(
            "SELECT expected, perceived, human_involved FROM ratings WHERE conversation_id = ?",
            (session_id,),
        ).fetchall()
        statuses = connection.execute(
            "SELECT kind, status, assigned_to FROM tickets WHERE conversation_id = ?",
            (session_id,),
        ).fetchall()
    assert ratings == [(4, 5, 1)]
    assert ("handoff", "handed_back", STAFF_USER) in statuses


def test_trainee_practises_in_the_web_chat(stack: Stack, browser: Browser) -> None:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{stack.url}/webhooks/chat/")
    # A made-up code: nothing starts.
    page.once("dialog", lambda dialog: dialog.accept("NOTACODE42"))
    page.click("#cs-practice")
    expect(page.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("邀请码")
    # The trainer's code: the practice is the invited trainee's.
    code = stack.practice("网页学员").split('"invitation": "')[1].split('"')[0]
    page.once("dialog", lambda dialog: dialog.accept(code))
    page.click("#cs-practice")
    expect(page.locator(".cs-msg.cs-user .cs-text").last).to_contain_text("邀请码")
    expect(page.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("客户：")
    # A weak reply: no customer ends the session after one of those, so the
    # session is still running whatever scenario was drawn.
    send(page, "嗯嗯好的")
    expect(page.locator(".cs-msg.cs-bot .cs-text").filter(has_text="本轮得分")).to_have_count(1)
    send(page, "结束练习")
    expect(page.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("回到正常客服模式")
    # The trainee's own progress chart, shown in the chat.
    chart = page.locator(".cs-msg.cs-bot img.cs-image").last
    expect(chart).to_be_visible()
    wait_until(page,
               "[...document.querySelectorAll('img.cs-image')].some(i => i.naturalWidth > 300)")
    page.screenshot(path=str(SHOTS / "practice.png"), full_page=True)


def test_trainer_sees_practice_progress(stack: Stack, browser: Browser) -> None:
    # A finished session to look at (the chat practice is tested above).
    me = f"e2e-trainer-{stack.rasa_port}"
    stack.texts(me, stack.practice("进度学员"))
    stack.texts(me, "嗯嗯好的")
    stack.texts(me, "结束练习")

    staff = staff_page(stack, browser, "practice")
    row = staff.locator('tr.trainee-row[data-trainee="进度学员"]')
    expect(row).to_be_visible()
    row.click()
    expect(staff.locator("#detail-summary")).to_contain_text("完成 1 场")
    expect(staff.locator("#sessions tr")).to_have_count(1)
    wait_until(staff, "(() => { const img = document.querySelector('#chart');"
                      " return img.complete && img.naturalWidth > 0; })()")
    staff.screenshot(path=str(SHOTS / "practice_progress.png"), full_page=True)


def staff_page(stack: Stack, browser: Browser, path: str, user: str = STAFF_USER) -> Page:
    """A logged-in staff member (the manager by default) on a console page."""
    staff = browser.new_context(locale="zh-CN").new_page()
    staff.goto(f"{stack.url}/webhooks/console/")
    staff.fill("#login-user", user)
    staff.fill("#login-password", STAFF_PASSWORD)
    staff.click("#login-submit")
    expect(staff.locator("#staff-name")).to_contain_text(user)
    if path:
        staff.goto(f"{stack.url}/webhooks/console/{path}")
    return staff


def test_only_the_manager_sees_the_audit_log(stack: Stack, browser: Browser) -> None:
    agent = staff_page(stack, browser, "", user=AGENT_USER)
    expect(agent.locator("#audit-link")).to_be_hidden()
    expect(agent.locator("#reports-link")).to_be_hidden()
    agent.goto(f"{stack.url}/webhooks/console/audit")
    expect(agent.locator("#audit-error")).to_contain_text("主管")

    manager = staff_page(stack, browser, "")
    expect(manager.locator("#audit-link")).to_be_visible()
    manager.click("#audit-link")
    rows = manager.locator("#entries tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    expect(manager.locator("#entries")).to_contain_text(AGENT_USER)  # the agent's login
    expect(manager.locator("#entries")).to_contain_text("登录")
    manager.screenshot(path=str(SHOTS / "audit.png"), full_page=True)


def test_manager_reads_the_report_page(stack: Stack, browser: Browser) -> None:
    # Something to report: a handoff ticket from this week.
    stack.texts(f"e2e-report-{stack.rasa_port}", "转人工")
    page = staff_page(stack, browser, "reports")
    sections = page.locator("#sections section")
    expect(sections).to_have_count(3, timeout=30_000)
    expect(page.locator("#sections")).to_contain_text("人工服务")
    expect(page.locator("#report-error")).to_be_hidden()
    wait_until(page, "(() => { const charts = [...document.querySelectorAll('img.chart')];"
                     " return charts.length >= 4"
                     " && charts.every(i => i.complete && i.naturalWidth > 0); })()")
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)


# Its own pool of fault reports (the other review tests have theirs; test_review.py
# says what counts as a miss).
MISS_POOL = ["燃气灶打不着", "个电饭煲嘅掣撳唔落", "个电磁炉成日跳掣", "部扫地机成日撞墙",
             "部热水器啲水忽冷忽热", "个抽风机嘈到死", "部雪柜成日滴水", "个抽油烟机嘈到死",
             "部雪柜嘈到死", "个面包机出唔到嘢", "部饮水机出唔到水", "个电蚊拍拍唔死蚊"]


def test_staff_work_the_review_queue(stack: Stack, browser: Browser) -> None:
    miss = next(iter(send_misses(stack, MISS_POOL, need=1)))
    page = staff_page(stack, browser, "review")
    page.click("#scan")
    expect(page.locator("#notice")).to_contain_text("新加入")
    item = page.locator("article.item").filter(has_text=miss)
    expect(item).to_have_count(1)
    # 新话题: the review e2e tests export the shared stack's labelled items into
    # data/nlu copies and expect only their own there.
    item.locator("select").select_option("new_topic")
    item.get_by_role("button", name="保存").click()
    expect(item.locator(".saved")).to_contain_text("已保存")
    page.screenshot(path=str(SHOTS / "review.png"), full_page=True)


# Draws text with the page's own font stack into a canvas and reads the pixels back:
# a missing glyph is drawn as the same empty box whatever the character.
GLYPH_PROBE = """() => {
  const family = getComputedStyle(document.querySelector(".cs-empty-title")).fontFamily;
  const draw = (text) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    const context = canvas.getContext("2d");
    context.font = `40px ${family}`;
    context.textBaseline = "top";
    context.fillStyle = "#000";
    context.fillText(text, 4, 4);
    return context.getImageData(0, 0, 64, 64).data;
  };
  const shape = (data) => {
    let s = "";
    for (let i = 3; i < data.length; i += 4) s += data[i] > 0 ? 1 : 0;
    return s;
  };
  const coloured = (data) => {
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && (Math.abs(r - g) > 40 || Math.abs(g - b) > 40)) n++;
    }
    return n;
  };
  const box = shape(draw("\\u{10FFFD}"));
  return {
    chinese: ["您", "好", "客", "服"].map((c) => shape(draw(c)) !== box),
    distinct: new Set(["您", "好", "客", "服"].map((c) => shape(draw(c)))).size,
    emoji: ["😊", "🤖", "👋", "🙏"].map((c) => coloured(draw(c))),
  };
}"""


def test_chinese_and_emoji_have_glyphs_in_the_browser(stack: Stack, browser: Browser) -> None:
    """The browser's fonts (make browser: fonts-noto-cjk, fonts-noto-color-emoji) draw
    the Chinese UI and the emoji of the bot's replies, not empty boxes."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{stack.url}/webhooks/chat/")
    probe = page.evaluate(GLYPH_PROBE)
    assert probe["chinese"] == [True] * 4 and probe["distinct"] == 4
    assert all(pixels > 50 for pixels in probe["emoji"]), probe["emoji"]
    page.context.close()
