"""Write data/sample/hotel_reviews.xlsx from the rows below (all texts written by the cxtext team).

The workbook stands in for an export from a hotel group's review back office: Chinese column
names, real datetime cells, integer ratings, a few reviews in traditional characters and with
HTML residue. Output is byte-for-byte deterministic, so rerunning it leaves git clean:

    .venv/bin/python data/sample/make_sample.py
"""
from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime
from pathlib import Path

# openpyxl serialises through lxml when it is installed and through the standard library
# otherwise, and the two write different bytes; always use the standard library.
os.environ["OPENPYXL_LXML"] = "False"

from openpyxl import Workbook  # noqa: E402  (after the switch above)
from openpyxl.writer.excel import ExcelWriter  # noqa: E402

HERE = Path(__file__).resolve().parent
XLSX = HERE / "hotel_reviews.xlsx"
HEADER = ("评论id", "门店", "评论时间", "评分", "渠道", "评价内容")
FIXED_TIME = datetime(2026, 7, 1, 9, 0, 0)   # document properties: not "now"
ZIP_TIME = (2026, 7, 1, 9, 0, 0)             # zip entry timestamps: not "now"

WEST = "栖云酒店(西湖店)"
BUND = "栖云酒店(外滩店)"
AIRPORT = "栖云酒店(机场店)"

# (id, store, time, stars, channel, text). 外滩店 is the weak one on hygiene and odor,
# 机场店 on check-in queues and noise; 西湖店 is mostly praised.
ROWS = [
    ("HT0001", WEST, "2026-01-04 21:13", 5, "携程", "在携程预订的湖景房，前台办理入住很快，还免费升级了。房间很干净，床品有阳光晒过的味道。"),
    ("HT0002", BUND, "2026-01-07 23:40", 2, "美团", "一进房间就是一股浓浓的烟味，明明订的是无烟房，换了一间还是有，只能开着窗睡。"),
    ("HT0003", AIRPORT, "2026-01-11 02:05", 3, "携程", "凌晨一点到店，前台只有一个人在忙，排了二十多分钟才办好入住。房间还可以。"),
    ("HT0004", WEST, "2026-01-16 10:22", 4, "飞猪", "房間乾淨整潔，早餐種類豐富，就是ＷｉＦｉ有點慢，開個視頻會議卡得不行。"),
    ("HT0005", BUND, "2026-01-19 22:51", 2, "携程", "床单上有一块黄色的污渍，打电话叫客房来换，等了四十分钟才来人。"),
    ("HT0006", BUND, "2026-01-24 09:37", 3, "美团", "位置没得说，走到外滩五分钟。房间收拾得挺整洁，就是浴室地漏周围一圈黑色污垢，洗澡时看着难受。"),
    ("HT0007", WEST, "2026-01-27 18:02", 5, "携程", "湖景房比普通房贵了两百，但推开窗就是西湖，值！"),
    ("HT0008", AIRPORT, "2026-01-29 08:16", 4, "官网", "住过不少五星级酒店，这家虽然只是商务型，服务一点不输，接机的师傅很准时。"),
    ("HT0009", WEST, "2026-02-02 20:44", 5, "携程", "第一次入住，前台送了欢迎水果和一张手写卡片，很有心。房间能看到西湖，晚上特别安静。"),
    ("HT0010", BUND, "2026-02-05 23:58", 1, "携程", "订了房，到店却说满房了，让我们去隔壁的合作酒店，大冬天拖着箱子走了十分钟。"),
    ("HT0011", AIRPORT, "2026-02-09 07:30", 3, "美团", "电梯太慢了，早上高峰要等好几趟，热水也要放很久才出来，其他还行。"),
    ("HT0012", WEST, "2026-02-13 15:09", 4, "飞猪", "价格偏高，淡季也要八百多一晚，不过确实对得起这个位置和服务。"),
    ("HT0013", BUND, "2026-02-17 11:26", 2, "美团", "房间有股霉味，空调一开更明显，滤网估计很久没清洗了。"),
    ("HT0014", AIRPORT, "2026-02-19 19:48", 2, "携程", "在飞猪上订的房，到店发现订单没同步过来，前台查了半天，最后只能重新下单付钱，原来那笔说要等退款。"),
    ("HT0015", WEST, "2026-02-21 12:00", 5, "携程", "已经是第三次住了，每次都很舒服。这次前台一下就认出我，直接帮我安排了高楼层。"),
    ("HT0016", BUND, "2026-02-25 10:14", 2, "携程", "退房的时候前台说在携程上写个好评可以送一张早餐券，我说回去再写，她就一直站在旁边看我写完才放我走。"),
    ("HT0017", AIRPORT, "2026-02-28 16:33", 5, "美团", "前台小姐姐對(duì)我們超級有耐心，幫忙查了好多次航班信息，感謝感謝🙏"),
    ("HT0018", AIRPORT, "2026-03-01 09:05", 4, "携程", "离机场很近，有免费接驳车，十五分钟一班，不用等太久。房间小了点但干净。"),
    ("HT0019", WEST, "2026-03-05 22:18", 4, "美团", "美团上订398，前台直接订要520，还是提前在网上订划算。"),
    ("HT0020", BUND, "2026-03-10 08:47", 1, "携程", "卫生太差了！！！<br>枕头上有头发，浴缸边缘一圈污垢。&nbsp;&nbsp;投诉了也只是说会跟进，再也不会住了。"),
    ("HT0021", AIRPORT, "2026-03-14 06:55", 3, "飞猪", "隔音很差，隔壁说话听得一清二楚，半夜还有飞机起降的声音，吵得睡不着。"),
    ("HT0022", WEST, "2026-03-18 21:30", 5, "携程", "<b>强烈推荐</b>！管家服务很周到，行李一到就送上楼，还帮我们提前订好了晚上吃饭的位子。"),
    ("HT0023", BUND, "2026-03-22 13:41", 2, "美团", "老会员了，积分兑换的房间被安排在最角落，窗户对着墙。新会员注册还送双早，我们老客户连杯欢迎饮料都没有。"),
    ("HT0024", AIRPORT, "2026-03-26 23:12", 2, "携程", "办入住排了半小时，第二天退房又排了二十分钟，前台就开一个窗口，效率实在太低。"),
    ("HT0025", WEST, "2026-03-30 09:50", 4, "官网", "早餐味道不错，小笼包很好吃，就是人多的时候拿东西要排队。"),
    ("HT0026", BUND, "2026-04-03 20:07", 3, "携程", "價錢不算便宜，房間有點舊，地毯有股怪味，但是服務人員都很有禮貌。"),
    ("HT0027", AIRPORT, "2026-04-08 04:20", 5, "美团", "航班延误凌晨三点才到，前台小哥还在等我们，几分钟就办好了，还给了两瓶水。谢谢！"),
    ("HT0028", WEST, "2026-04-12 17:36", 4, "携程", "电话预订改了两次日期，客服都很耐心，也没有收任何手续费。"),
    ("HT0029", BUND, "2026-04-17 00:31", 2, "飞猪", "卫生间下水道味很重，晚上关着门都能闻到。"),
    ("HT0030", AIRPORT, "2026-04-21 12:12", 3, "携程", "房价一晚三百六，含双早。房间设施一般般。"),
    # Five stars, complaining text: it happens when guests tap the default rating.
    ("HT0031", WEST, "2026-04-26 19:19", 5, "美团", "整体还行，就是前台排队等了快一个小时，服务员也不怎么理人。"),
    ("HT0032", BUND, "2026-05-01 22:45", 2, "携程", "五一房价翻了三倍，一晚一千五，房间还是那个老房间，性价比太低了。"),
    ("HT0033", AIRPORT, "2026-05-06 14:28", 4, "美团", "第一次住机场店，前台送了一份小点心当见面礼，房间比想象中安静。"),
    ("HT0034", WEST, "2026-05-11 10:03", 3, "携程", "第二次来了，这次订房的时候明明备注了要大床，到了只有双床房，前台说备注不保证。"),
    ("HT0035", BUND, "2026-05-15 08:24", 2, "美团", "毛巾摸着发硬发黄，感觉是反复使用的，没敢用，自己带了一条。"),
    ("HT0036", AIRPORT, "2026-05-20 07:41", 4, "飞猪", "早上的叫醒服务很准时，退房也就两分钟的事。"),
    ("HT0037", WEST, "2026-05-25 21:57", 5, "携程",
     "陪父母来杭州玩了三天，住在西湖店。先说优点：位置非常好，走路就能到断桥；房间宽敞，"
     "床垫软硬适中，卫生间干湿分离，打扫得很干净，没有一点异味；前台和礼宾的小伙子都很热情，"
     "帮我们叫车、推荐餐厅，晚上还送了一盘水果；早餐也很用心，有现做的片儿川和葱包桧，老人家吃得很开心。缺点是停车场比较小，周末基本停不进去，"
     "只能停到附近的商场，来回要走十分钟；另外周末房价确实偏贵，比平时高出将近一半；"
     "还有就是浴室的吹风机风力太小，我妈头发长，吹了二十分钟还没干。"
     "总体来说还是很满意，父母也说住得舒服，下次来杭州还会选这里。"),
    ("HT0038", BUND, "2026-05-29 18:10", 1, "携程", "退房一周后接到酒店电话，求我把差评改掉，说可以退一部分房费，这种做法更让人反感。"),
    ("HT0039", AIRPORT, "2026-06-02 06:48", 3, "美团", "房間還算乾淨，不過隔音真的很差，早上五點就被走廊的推車聲吵醒。"),
    ("HT0040", WEST, "2026-06-07 16:25", 4, "飞猪", "房价一晚六百八，含早。服务还可以，就是健身房器材有点少。"),
    ("HT0041", BUND, "2026-06-12 11:58", 2, "携程", "入住时押金收了一千，退房三天了还没退回来，打了几次电话都说在处理。"),
    ("HT0042", AIRPORT, "2026-06-16 20:36", 5, "携程", "老顾客了，每次出差都住这里，前台都认识我了，会员价也一直很实在。"),
    ("HT0043", WEST, "2026-06-21 09:14", 4, "美团", "服務很好，早餐豐富&nbsp;就是退房時前台人有點多，等了十來分鐘。"),
    ("HT0044", BUND, "2026-06-25 15:47", 3, "携程", "隔壁房间在装修，白天电钻声就没停过，问前台能不能换房，说没办法。"),
]


def rows() -> list[tuple]:
    """The sheet rows (header excluded) with times parsed into datetime cells."""
    return [(i, s, datetime.strptime(t, "%Y-%m-%d %H:%M"), r, c, x) for i, s, t, r, c, x in ROWS]


def workbook() -> Workbook:
    """Build the workbook in memory; column widths only make it pleasant to open in Excel."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评价导出"
    ws.append(HEADER)
    for row in rows():
        ws.append(row)
    for col in ws.iter_cols(min_row=2, min_col=3, max_col=3):
        for cell in col:
            cell.number_format = "yyyy-mm-dd hh:mm"
    for letter, width in zip("ABCDEF", (10, 18, 18, 6, 8, 80)):
        ws.column_dimensions[letter].width = width
    wb.properties.creator = "cxtext"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return wb


def xlsx_bytes(wb: Workbook) -> bytes:
    """Serialise with fixed zip timestamps (openpyxl's save() stamps both with the clock)."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(zipfile.ZipInfo(name, ZIP_TIME), src.read(name), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main() -> None:
    XLSX.write_bytes(xlsx_bytes(workbook()))
    print(f"wrote {XLSX} ({len(ROWS)} rows)")


if __name__ == "__main__":
    main()
