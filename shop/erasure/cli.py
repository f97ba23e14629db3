"""Personal data deletion from the terminal (PIPL):

    python -m shop.erasure.cli forget --phone 13800138001   (or --customer C0001)
    python -m shop.erasure.cli forget --trainee 小李
    python -m shop.erasure.cli retention [--days 180]

`make forget PHONE=…` / `make forget CUSTOMER=…` / `make forget TRAINEE=…` and
`make retention` call it. Each erasure is written to the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from typing import List, Optional

from shop import audit
from shop.db.engine import create_schema
from shop.erasure import retention
from shop.erasure.customer import NoSuchPerson, forget_customer, forget_trainee


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="删除或匿名化个人信息（个人信息保护法）")
    commands = parser.add_subparsers(dest="command", required=True)
    forget = commands.add_parser("forget", help="匿名化一位客户或学员的全部个人信息")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="客户编号")
    who.add_argument("--phone", help="客户手机号")
    who.add_argument("--trainee", help="学员姓名（练习数据）")
    keep = commands.add_parser("retention", help="匿名化超过保存期限的对话")
    keep.add_argument("--days", type=int, help="保存天数（默认 RETENTION_DAYS）")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    create_schema()
    operator = f"cli:{getpass.getuser()}"
    if args.command == "retention":
        total = 0
        while True:
            done = retention.anonymise_idle(args.days)
            total += done
            if done < retention.CONVERSATIONS_PER_PASS:
                break
        print(f"已匿名化 {total} 个超过保存期限的对话。")
        return 0
    try:
        if args.trainee:
            report = forget_trainee(args.trainee)
        else:
            report = forget_customer(customer_id=args.customer, phone=args.phone)
    except NoSuchPerson:
        print("没有找到这位客户或学员，未做任何更改。", file=sys.stderr)
        return 2
    audit.record(operator, "cli", "erase_personal_data", report.who)
    print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
