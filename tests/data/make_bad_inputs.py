"""Write the bad-input corpus (tests/data/bad_inputs/) byte for byte, deterministically.

Every sentence here was written for this project. Run it after changing the corpus:

    python tests/data/make_bad_inputs.py            # (re)write tests/data/bad_inputs/
    python tests/data/make_bad_inputs.py --check    # exit 1 if the committed files differ

`EXPECTED` states, per file, what ingestion must make of it; tests/test_ingest.py checks it and
the end-to-end run over the folder uses the same numbers.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "bad_inputs"

# Simplified sentences (GBK and UTF-8 files) and traditional ones (also in the Big5 file).
SIMPLIFIED = [
    "牙医很耐心，就是等了四十分钟",
    "前台态度冷淡，问了三遍才有人理",
    "房间很干净，床单也是新换的",
    "外卖送得很快，汤还是热的",
    "价格有点贵，不过分量很足",
    "预约了两次都没约上，电话一直占线",
]
TRADITIONAL = [
    "牙醫很耐心，就是等了四十分鐘",
    "櫃檯服務態度很好，退房也很快",
    "浴室有異味，毛巾看起來沒有換過",
    "價格合理，下次還會再來",
]
LONG_REVIEW = ("这家店的服务从预约到结账都让人满意。" * 20000)[: (1 << 20) // 3]  # 1 MB in UTF-8

# file name -> expected (rows_read, rows_accepted, {reason: count}, encoding or None)
EXPECTED: dict[str, tuple[int, int, dict[str, int], str | None]] = {
    "binary_named.csv": (1, 0, {"BINARY_FILE": 1}, None),
    "big5_reviews.csv": (4, 4, {}, "big5"),
    "bom_crlf_quoted.csv": (6, 4, {"EMPTY_TEXT": 2}, "utf-8-sig"),
    "complaint_log.csv": (3, 3, {}, "utf-8"),
    "decode_error.csv": (7, 6, {"DECODE_ERROR": 1}, "utf-8"),
    "duplicates.csv": (6, 4, {"DUPLICATE": 2}, "utf-8"),
    "empty.csv": (1, 0, {"EMPTY_FILE": 1}, None),
    "gbk_reviews.csv": (6, 6, {}, "gb18030"),
    "header_only.csv": (1, 0, {"EMPTY_FILE": 1}, "utf-8"),
    "html_formula.tsv": (5, 5, {}, "utf-8"),
    "long_review.csv": (2, 1, {"TOO_LONG": 1}, "utf-8"),
    "malformed.csv": (3, 2, {"MALFORMED_ROW": 1}, "utf-8"),
    "mixed.jsonl": (8, 4, {"MALFORMED_ROW": 2, "EMPTY_TEXT": 2}, "utf-8"),
    "no_text_column.csv": (2, 0, {"NO_TEXT_COLUMN": 2}, "utf-8"),
    "nested/more_reviews.ndjson": (2, 2, {}, "utf-8"),
    "utf16_excel_export.txt": (2, 2, {}, "utf-16"),
}
# Present in the folder but skipped when the folder is read (hidden, or an unknown extension).
SKIPPED_IN_FOLDER = ["legacy_export.xls", "notes.md"]
HIDDEN = [".hidden_draft.csv"]


def _csv_line(*cells: str) -> str:
    """One CSV record; cells holding commas, quotes or newlines are quoted."""
    out = []
    for cell in cells:
        if any(ch in cell for ch in ',"\r\n'):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return ",".join(out)


def _lines(*rows: tuple[str, ...], eol: str = "\n") -> str:
    return "".join(_csv_line(*row) + eol for row in rows)


def build() -> dict[str, bytes]:
    """Every corpus file name (relative to bad_inputs/) with its exact bytes."""
    files: dict[str, bytes] = {}
    files["gbk_reviews.csv"] = _lines(
        ("编号", "评论", "门店", "评分"),
        *[(f"G{i}", s, "朝阳店", str(3 + i % 3)) for i, s in enumerate(SIMPLIFIED, 1)],
    ).encode("gbk")
    files["big5_reviews.csv"] = _lines(
        ("編號", "評論", "門店"), *[(f"B{i}", s, "信義店") for i, s in enumerate(TRADITIONAL, 1)],
    ).encode("big5")
    # BOM, CRLF line ends, a quoted newline, a quoted comma and quote, two empty texts.
    files["bom_crlf_quoted.csv"] = b"\xef\xbb\xbf" + _lines(
        ("review_id", "text", "channel"),
        ("u1", TRADITIONAL[0], "app"),
        ("u2", "第一行说排队太久，\r\n第二行说服务员很热情", "小程序"),
        ("u3", '店员说"马上就好"，结果又等了半小时', "电话"),
        ("u4", "   ", "app"),
        ("u5", "", "app"),
        ("u6", SIMPLIFIED[2], "web"),
        eol="\r\n",
    ).encode("utf-8")
    files["binary_named.csv"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    files["empty.csv"] = b""
    files["header_only.csv"] = "评论,门店\n".encode("utf-8")
    files["duplicates.csv"] = _lines(
        ("id", "content"),
        ("d1", SIMPLIFIED[0]),
        ("d1", SIMPLIFIED[0]),           # same id, same text: DUPLICATE
        ("d1", SIMPLIFIED[1]),           # same id, other text: kept as d1~2
        ("d2", SIMPLIFIED[3]),
        ("d2", SIMPLIFIED[3]),           # DUPLICATE
        ("d3", SIMPLIFIED[3]),           # other id, same text: kept
    ).encode("utf-8")
    files["long_review.csv"] = _lines(("评论",), (LONG_REVIEW,), (SIMPLIFIED[4],)).encode("utf-8")
    files["html_formula.tsv"] = (
        "review\tstore\n"
        "<p>环境<b>很好</b></p><script>alert('x')</script>\t一号店\n"
        "=HYPERLINK(\"http://example.invalid\",\"点我\")\t一号店\n"
        "+SUM(1,2) 服务员算错了账\t二号店\n"
        "@echo 上菜太慢了\t二号店\n"
        "-1 分都不想给，蟑螂在桌上爬\t三号店\n"
    ).encode("utf-8")
    files["complaint_log.csv"] = _lines(
        ("工单号", "时间", "渠道", "对话"),
        ("T1001", "2024-03-01 10:02", "电话",
         "客户：我上周预约的体检，到了却说没有记录\n客服：非常抱歉，我帮您查一下\n客户：已经第二次了，太耽误时间"),
        ("T1002", "2024-03-02 15:40", "在线",
         "客户：外卖送错了地址\n客服：已为您申请退款\n客户：好的，谢谢"),
        ("T1003", "2024-03-03 09:15", "微信", "客户：酒店房间有烟味，能换一间吗\n客服：已安排换房"),
    ).encode("utf-8")
    good = [_csv_line("R1", SIMPLIFIED[0]), _csv_line("R2", SIMPLIFIED[1]), _csv_line("R3", SIMPLIFIED[2])]
    bad = "R4,".encode("utf-8") + "收银员多收了十块钱".encode("gbk") + b"\n"   # GBK bytes inside UTF-8
    tail = [_csv_line("R5", SIMPLIFIED[3]), _csv_line("R6", SIMPLIFIED[4]), _csv_line("R7", SIMPLIFIED[5])]
    files["decode_error.csv"] = (
        ("id,text\n" + "\n".join(good) + "\n").encode("utf-8") + bad + ("\n".join(tail) + "\n").encode("utf-8"))
    files["malformed.csv"] = _lines(("评论", "门店")).encode("utf-8") + (
        f"{SIMPLIFIED[0]},一号店\n"
        "菜很好吃,但是,上菜太慢,一号店\n"     # four fields under a two-column header
        f"{SIMPLIFIED[4]},二号店\n").encode("utf-8")
    files["mixed.jsonl"] = "\n".join([
        json.dumps({"id": "j1", "text": SIMPLIFIED[0], "rating": 4}, ensure_ascii=False),
        '{"id": "j2", "text": "少了一个右括号"',
        json.dumps({"id": "j3", "text": SIMPLIFIED[1], "rating": 2.5}, ensure_ascii=False),
        "",
        json.dumps(["不是", "对象"], ensure_ascii=False),
        json.dumps({"id": "j4", "text": None}, ensure_ascii=False),
        json.dumps({"id": "j5", "text": "\u3000 "}, ensure_ascii=False),
        json.dumps({"id": "j6", "text": TRADITIONAL[2], "meta": {"门店": "信义店"}}, ensure_ascii=False),
        json.dumps({"id": "j7", "评论": SIMPLIFIED[5]}, ensure_ascii=False),
    ]).encode("utf-8") + b"\n"
    files["no_text_column.csv"] = _lines(("门店", "评分", "日期"), ("一号店", "5", "2024-01-02"),
                                         ("二号店", "2", "2024-01-03")).encode("utf-8")
    files["nested/more_reviews.ndjson"] = "".join(
        json.dumps({"评论id": f"n{i}", "内容": s}, ensure_ascii=False) + "\n"
        for i, s in enumerate(SIMPLIFIED[:2], 1)).encode("utf-8")
    files["utf16_excel_export.txt"] = ("评论\t评分\r\n" + f"{SIMPLIFIED[3]}\t5\r\n{SIMPLIFIED[4]}\t3\r\n").encode("utf-16")
    files["legacy_export.xls"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56
    files["notes.md"] = "# 说明\n这个文件夹放的是故意写坏的输入。\n".encode("utf-8")
    files[".hidden_draft.csv"] = _lines(("评论",), ("草稿，不应被读取",)).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: tests/data/bad_inputs)")
    parser.add_argument("--check", action="store_true", help="compare with the folder instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, data in build().items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if stale:
        print(f"out of date in {args.out}: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
