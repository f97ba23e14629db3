"""The slow half of the review loop (part of the e2e suite): misses of the running
model, labelled by staff and exported into a copy of the data, are learnt by a model
trained from that copy (`rasa train`, 2–3 minutes on 2 cores) — the re-check shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from e2e.conftest import PROJECT_ROOT, Stack
from e2e.test_review import data_copy, queue_and_label, run_cli, send_misses, staff_token

# Appliance faults, clearly 维修/售后, that the running model may answer with "not
# understood" or read as another intent (a pool of its own, as in test_review.py).
MISS_POOL = ["空气炸锅外壳烫手", "煤气灶一点火就灭", "浴霸灯泡一闪一闪的", "净水器滴滴叫个不停",
             "电烤箱不热", "热水器老是熄火", "油烟机不转了", "烤箱温度上不去",
             "干衣机转两下就停", "豆浆机打不碎", "部电视冇晒声", "热水壶烧不开",
             "部热水炉着唔到火", "部打印机食纸食唔入", "部冷气机成地都系水",
             "部洗碗机洗极都唔干净", "部吸尘器吸唔到嘢", "个电热水壶滚唔到水",
             "消毒柜温度上不去", "个电水煲滚极都唔滚", "部制冰机出唔到冰"]
LABEL = "after_sales"


def test_the_retrained_model_gets_the_labelled_misses(stack: Stack, tmp_path: Path) -> None:
    token = staff_token(stack)
    misses = send_misses(stack, MISS_POOL, need=2)
    queue_and_label(stack, token, misses, LABEL)
    data = data_copy(tmp_path)
    run_cli(stack, "export", "--data-dir", str(data), "--topics", str(tmp_path / "topics.md"))
    written = (data / "nlu" / "after_sales.yml").read_text(encoding="utf-8")
    assert all(f"    - {text}\n" in written for text in misses)

    rasa = Path(sys.executable).parent / "rasa"
    trained = subprocess.run(
        [str(rasa), "train", "--data", str(data), "knowledge/faq.yml", "--config", "config.yml",
         "--domain", "domain.yml", "--out", str(tmp_path), "--fixed-model-name", "retrained"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, **stack.env, "RASA_CACHE_DIRECTORY": str(tmp_path / "cache")})
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    model = tmp_path / "retrained.tar.gz"
    assert model.exists()

    out = tmp_path / "recheck.json"
    table = run_cli(stack, "recheck", "--model", str(model), "--out", str(out))
    rows = {row["text"]: row for row in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    for text in misses:
        assert (rows[text]["label"], rows[text]["now"], rows[text]["fixed"]) == (
            LABEL, LABEL, True), rows[text]
        assert text in table
    assert "现在识别正确" in table
