"""处理建议 and 移送部门: what to do with a confirmed item and who acts on it, derived from its labels.

Medical advertising is enforced by market regulation (广告法 Art. 6: 市场监督管理部门); unlicensed
practice is a health-supervision matter (基本医疗卫生与健康促进法: 卫生健康主管部门 and its
监督机构); illegal drugs and devices belong to drug regulation (药品管理法, 医疗器械监督管理条例:
药品监督管理部门). An item with several labels goes to every department concerned, in this order.
A reviewer's note can always say more; this table gives the default wording.
"""

from __future__ import annotations

from collections.abc import Iterable

SAMR = "市场监督管理部门"
HEALTH = "卫生健康监督机构"
DRUGS = "药品监督管理部门"

# label or finding -> (处理建议, 移送部门)
DISPOSITION: dict[str, tuple[str, str]] = {
    "unlicensed_practice": (
        "涉嫌非法开展医疗美容诊疗活动，移送卫生健康监督机构查处；构成犯罪的移送公安机关",
        HEALTH,
    ),
    "unapproved_product": ("涉嫌销售、使用非法药品或医疗器械，移送药品监督管理部门查处", DRUGS),
    "training_pitch": ("责令停止发布违规培训广告，依法查处虚假承诺", SAMR),
    "false_promise": ("责令停止发布、消除影响，依法查处虚假或违规医疗广告", SAMR),
    "disguised_ad": ("责令停止以新闻、科普等形式变相发布医疗广告，依法查处", SAMR),
    "appearance_anxiety": ("责令停止发布，依法查处违背社会良好风尚的广告", SAMR),
    "approval_missing": ("责令停止发布未经审查的医疗广告，依法查处", SAMR),
    "approval_unknown": ("核实审查证明文号真伪，责令停止发布，依法查处", SAMR),
    "approval_expired": ("责令停止发布审查证明过期的医疗广告，依法查处", SAMR),
    "approval_mismatch": ("责令按审查证明内容发布，依法查处", SAMR),
}
ORDER = tuple(DISPOSITION)

PENDING_SUGGESTION = "待审核确认，暂不移送"
REJECTED_SUGGESTION = "审核排除，不予移送"


def disposition(status: str, labels: Iterable[str]) -> tuple[str, str]:
    """(处理建议, 移送部门) for an item in ``status`` carrying ``labels`` (labels and finding kinds)."""
    if status == "rejected":
        return REJECTED_SUGGESTION, ""
    present = [key for key in ORDER if key in set(labels)]
    if status != "confirmed":
        return PENDING_SUGGESTION, ""
    suggestions = [DISPOSITION[key][0] for key in present]
    departments: list[str] = []
    for key in present:
        if DISPOSITION[key][1] not in departments:
            departments.append(DISPOSITION[key][1])
    return "；".join(dict.fromkeys(suggestions)), "、".join(departments)
