"""Who is behind a page: institution names, 统一社会信用代码 and street addresses (best effort).

Used by approval linking (a 文号 must match the institution that holds it) and by enforcement
exports (当事人, 统一社会信用代码, 地址). Names and addresses are found by their endings
(…医院, …医疗美容门诊部, …工作室; …路…号); credit codes by their shape and check character
(GB 32100-2015), so an 18-character order number does not pass for one.
"""

from __future__ import annotations

import re

from pipelines.contacts import fold

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10})(?![0-9A-Za-z])"
)

_SUFFIXES = (
    "医疗美容医院", "医疗美容门诊部", "医疗美容诊所", "医疗美容中心", "医学美容中心", "整形美容医院", "整形外科医院", "整形医院", "美容医院", "皮肤病医院",
    "医院", "门诊部", "诊所", "医美中心", "医美机构", "医美", "美容院", "美容中心", "皮肤管理中心", "美容工作室", "工作室", "美容会所", "养生馆",
    "美容美体中心", "醫院", "診所", "醫美",
)  # fmt: skip
_SUFFIX_RE = "|".join(sorted(map(re.escape, _SUFFIXES), key=len, reverse=True))
_SUFFIX = re.compile("(?:" + _SUFFIX_RE + ")(?:有限公司|有限责任公司)?")
_NAME_BEFORE = re.compile(r"[\u4e00-\u9fff（）()A-Za-z0-9·]{2,16}$")
# Words after which a name starts (我去年在|推荐|还有 … 某某医院): everything up to the last one goes.
_LEAD_NOISE = re.compile(
    r"^.*(?:还有|还是|以及|推荐|选择|位于|来自|就在|我在|[在去到找是了问说选与及或为被让给跟从这那的])"
)
# A question or a description, not a name: 哪家医院, 什么医院, 做双眼皮的医院.
_NOT_A_NAME = re.compile(r"哪|什么|怎么|如何|多少|正规|靠谱|好的|一家|这家|那家|某些|做")
_GENERIC = frozenset({
    "医院", "诊所", "门诊部", "医美", "工作室", "美容院", "正规医院", "公立医院", "大医院", "私立医院", "整形医院", "这家医院", "那家医院",
    "哪家医院", "美容中心",
})  # fmt: skip

_ADDRESS = re.compile(
    r"(?:(?:地址|地點|地点|位于|院址)\s*[:：]?\s*)?"
    r"((?:[\u4e00-\u9fff]{2,8}(?:省|自治区))?(?:[\u4e00-\u9fff]{2,8}市)?(?:[\u4e00-\u9fff]{1,8}(?:区|县|旗))?"
    r"[\u4e00-\u9fff0-9]{1,20}?(?:路|街|大道|大街|巷|弄|道|胡同)\s*[0-9一二三四五六七八九十]+\s*[号號]"
    r"(?:[\u4e00-\u9fff0-9A-Za-z\-]{0,20}(?:楼|层|室|座|栋|单元|号楼|铺))?)"
)
# Addresses are found from their anchor (…路12号) backwards: the anchor starts with a literal,
# which the regex engine finds fast; the full pattern then runs on a short window only.
_ADDRESS_ANCHOR = re.compile(r"(?:路|街|大道|大街|巷|弄|道|胡同)\s*[0-9一二三四五六七八九十]+\s*[号號]")
_ADDRESS_WINDOW = 40
_CODE_HINT = re.compile(r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]{18}")
_ADDRESS_REGION = re.compile(r"省|市|区|县|自治区|旗")


def credit_code_valid(code: str) -> bool:
    """Whether an 18-character 统一社会信用代码 has the right check character (GB 32100-2015)."""
    code = code.upper()
    if len(code) != 18 or any(c not in _CODE_CHARS for c in code):
        return False
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(code[:17], _CODE_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return _CODE_CHARS[check] == code[17]


def find_credit_codes(text: str) -> list[str]:
    """Valid credit codes in ``text`` (full-width folded, upper-cased), first occurrences in order."""
    codes: list[str] = []
    if not _CODE_HINT.search(text):
        return codes
    for m in _CREDIT_CODE.finditer(fold(text)):
        code = m.group(1).upper()
        if credit_code_valid(code) and code not in codes:
            codes.append(code)
    return codes


def _trim_name(name: str) -> str:
    trimmed = _LEAD_NOISE.sub("", name)
    return trimmed if len(trimmed) >= 2 else name


def find_institutions(text: str) -> list[str]:
    """Institution names by their endings (医院, 诊所, 医疗美容门诊部, 工作室, 美容院 …)."""
    names: list[str] = []
    last_end = 0
    for suffix in _SUFFIX.finditer(text):
        before = _NAME_BEFORE.search(text, max(last_end, suffix.start() - 16), suffix.start())
        last_end = suffix.end()
        if before is None:
            continue
        name = _trim_name(before.group(0) + suffix.group(0))
        if name in _GENERIC or len(name) < 4 or _NOT_A_NAME.search(name):
            continue
        if name not in names:
            names.append(name)
        if len(names) >= 20:
            break
    return names


def find_addresses(text: str) -> list[str]:
    """Street addresses (…省…市…区…路…号…) that name at least a city or district."""
    found: list[str] = []
    last_end = 0
    for anchor in _ADDRESS_ANCHOR.finditer(text):
        start = max(last_end, anchor.start() - _ADDRESS_WINDOW)
        m = _ADDRESS.search(text[start : anchor.end() + 24])
        last_end = anchor.end()
        if m is None:
            continue
        address = re.sub(r"\s+", "", m.group(1))
        address = _LEAD_NOISE.sub("", address) if not _ADDRESS_REGION.search(address[:3]) else address
        if _ADDRESS_REGION.search(address) and address not in found:
            found.append(address)
        if len(found) >= 10:
            break
    return found
