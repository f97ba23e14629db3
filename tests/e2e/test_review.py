"""End to end, the review queue (四个不漏): a customer message the running model does
not understand is queued by a scan, staff label it through the console API, and the
export CLI writes it into a temporary copy of the training data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List

import requests

from e2e.conftest import PROJECT_ROOT, STAFF_PASSWORD, STAFF_USER, Stack

# Fault reports about goods the shop does not sell, clearly 维修/售后. Which of them the
# running model misses changes as it learns (with the word vectors it answers
# 热水器打不着火 and 油烟机不转了, two earlier misses; with more fault words in
# data/nlu/regex.yml and real after-sales chats, all the Mandarin ones but 地暖不热), so
# each test takes the misses from its own pool (the queue keeps one item per text) and
# needs only some. Cantonese ones (the washing machine won't move, the fridge hums all
# day) stay misses longest: no training message is in Cantonese (the hair dryer joined
# when the Taobao questions left this pool 2 misses; with the Taobao shop chats it had
# 1, so the air conditioner leaking and the dishwasher taking no water joined; with
# the second pool of them, 1 again: the coffee machine, the vacuum, the rice cooker;
# with Cantonese in knowledge/language.yml the washing machine that won't move is read,
# so the soy-milk maker and the treadmill joined: 5 misses).
MISS_POOL = ["浴霸不暖和", "地暖不热", "按摩椅卡住了", "燃气灶点不着火", "热水器打不着火",
             "部洗衣机唔郁", "部雪柜成日嗡嗡声", "个抽湿机唔抽水", "个风筒吹唔出热风",
             "部冷气机漏晒水", "部洗碗机唔入水", "部咖啡机出唔到水", "个吸尘机嘈到死",
             "个电饭煲成日跳掣", "个豆浆机出唔到浆", "部跑步机嘈到死"]
LABEL = "after_sales"


def staff_token(stack: Stack) -> str:
    login = requests.post(f"{stack.url}/webhooks/console/api/login",
                          json={"username": STAFF_USER, "password": STAFF_PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    return str(login.json()["token"])


def review_api(stack: Stack, token: str, path: str = "", method: str = "GET",
               **kwargs: Any) -> Dict[str, Any]:
    answer = requests.request(method, f"{stack.url}/webhooks/console/api/review{path}",
                              headers={"Authorization": f"Bearer {token}"}, timeout=60,
                              **kwargs)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def send_misses(stack: Stack, pool: List[str], need: int) -> Dict[str, str]:
    """Each text from a new customer (two misses in a row would hand off); the misses
    (text → sender): those the bot answered with the fallback — a rephrase request or
    "A or B?" (also a miss, queued too). At least `need` of them."""
    senders, answered = {}, {}
    for text in pool:
        sender = f"e2e-review-{uuid.uuid4().hex[:8]}"
        reply = stack.texts(sender, text)
        if "没太理解" in reply or "我想确认一下" in reply:
            senders[text] = sender
        else:
            answered[text] = reply
    assert len(senders) >= need, ("the model understood these; the pool needs harder "
                                  "fault reports", answered)
    return senders


def queue_and_label(stack: Stack, token: str, senders: Dict[str, str], label: str) -> None:
    review_api(stack, token, "/scan", "POST")
    for text, sender in senders.items():
        items = review_api(stack, token, params={"conversation_id": sender})["items"]
        assert [(i["text"], i["reason"], i["status"]) for i in items] == [
            (text, "nlu_fallback", "new")], items
        # The reply staff see beside it: the rephrase request or the "A or B?" question.
        assert items[0]["context"]["bot_reply"].startswith(("不好意思", "我想确认一下"))
        labelled = review_api(stack, token, f"/{items[0]['id']}/label", "POST",
                              json={"label": label})["item"]
        assert labelled["status"] == "labelled" and labelled["labelled_by"] == STAFF_USER


def data_copy(root: Path) -> Path:
    """data/ + domain.yml + config.yml + knowledge/faq.yml, as `rasa train` needs them."""
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    return root / "data"


def run_cli(stack: Stack, *args: str, timeout: float = 600) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.nlu.review_cli", *args],
                          cwd=PROJECT_ROOT, env=stack.env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_a_miss_is_queued_labelled_and_exported(stack: Stack, tmp_path: Path) -> None:
    token = staff_token(stack)
    assert requests.get(f"{stack.url}/webhooks/console/api/review", timeout=10).status_code == 401
    senders = send_misses(stack, MISS_POOL, need=1)
    miss = next(iter(senders))
    senders = {miss: senders[miss]}
    queue_and_label(stack, token, senders, LABEL)
    data = data_copy(tmp_path)
    before = (data / "nlu" / "after_sales.yml").read_bytes()
    real = (PROJECT_ROOT / "data" / "nlu" / "after_sales.yml").read_bytes()

    output = run_cli(stack, "export", "--data-dir", str(data),
                     "--topics", str(tmp_path / "topics.md"))

    assert miss in output
    after = (data / "nlu" / "after_sales.yml").read_bytes()
    assert after == before + f"- intent: {LABEL}\n  examples: |\n    - {miss}\n".encode()
    assert (PROJECT_ROOT / "data" / "nlu" / "after_sales.yml").read_bytes() == real
    items = review_api(stack, token, params={"conversation_id": senders[miss]})["items"]
    assert items[0]["status"] == "exported"
    assert items[0]["export_note"] == "nlu/after_sales.yml"
