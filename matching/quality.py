"""Is a submitted need or offer specific enough to match? Says in Chinese what to add.

Brokers find about a quarter of enterprise needs too vague to match without a second
round; the checks below name what is missing: enough text, a place, a scale, a target
or indicator, a technology, and words beyond the generic (智能, 平台, 提升...).
"""

import re
from dataclasses import dataclass

from matching.tokenize import DATA_DIR, Tokenizer, read_word_list

GENERIC_WORDS = frozenset(
    [
        "智能",
        "智慧",
        "平台",
        "提升",
        "系统",
        "解决方案",
        "方案",
        "服务",
        "赋能",
        "一体化",
        "综合",
        "管理",
        "数字化",
        "信息化",
        "技术",
        "应用",
        "建设",
        "打造",
        "推进",
        "推动",
        "助力",
        "转型",
        "升级",
        "创新",
        "能力",
        "水平",
        "效率",
        "体系",
        "高效",
        "全面",
        "整体",
        "相关",
        "需求",
        "项目",
        "场景",
        "开展",
        "实现",
        "加强",
        "优化",
        "融合",
        "数据",
        "一站式",
        "一揽子",
        "全方位",
        "多元",
        "新型",
        "现代化",
        "高质量",
    ]
)
PLACE = re.compile(
    r"(无锡|江阴|宜兴|梁溪|锡山|惠山|滨湖|新吴|经开|太湖|蠡湖|[\u4e00-\u9fff]{1,8}"
    r"(区|县|市|镇|街道|村|社区|小区|园区|产业园|开发区|路|街|桥|湖|河|港|站|机场|"
    r"医院|学校|车间|厂|工厂|基地|景区|古镇|隧道|码头|仓库|中心|大楼|场馆))"
)
SCALE = re.compile(
    r"\d+(\.\d+)?\s*(个|台|套|路|条|座|部|辆|架|公里|千米|km|米|平方米|亩|万|亿|"
    r"人|户|家|所|间|张|床|吨|kw|kwh|mw|gb|tb|项|处|次|小时|天|个月|年)",
    re.IGNORECASE,
)
TARGET = re.compile(
    r"(准确率|识别率|误报|漏报|响应时间|时延|延迟|降低|减少|提高|提升\s*\d|缩短|"
    r"不低于|不少于|不超过|以内|达到|≥|≤|>|<|％|%|指标|验收)"
)
MIN_LENGTH = 40


@dataclass(frozen=True)
class QualityIssue:
    code: str
    message: str


def _technology_words() -> frozenset[str]:
    return frozenset(read_word_list(DATA_DIR / "userdict.txt"))


def assess(
    title: str, description: str, tokenizer: Tokenizer, *, offer: bool = False
) -> list[QualityIssue]:
    """What a need (or, with `offer`, a capability) lacks for matching.

    An empty list means it reads well.
    """
    text = f"{title}\n{description}"
    issues: list[QualityIssue] = []
    if len(description.strip()) < MIN_LENGTH:
        issues.append(
            QualityIssue(
                "too_short",
                f"描述只有{len(description.strip())}个字，请至少写{MIN_LENGTH}字，"
                "说明现状、要解决的问题和期望的效果",
            )
        )
    words = [w for w in tokenizer.cut(text) if len(w) > 1]
    specific = [w for w in words if w not in GENERIC_WORDS]
    if words and len(specific) / len(words) < 0.5:
        issues.append(
            QualityIssue(
                "generic",
                "用词偏笼统（如“智能”“平台”“提升”），请写明具体对象和做法，"
                "例如“隧道渗漏水识别”而不是“智能化提升”",
            )
        )
    if not PLACE.search(text):
        issues.append(
            QualityIssue(
                "no_place",
                (
                    "请写明已有的应用案例或部署地点"
                    if offer
                    else "请写明场景所在的具体地点，如板块、园区、路段、厂区或场馆"
                ),
            )
        )
    if not SCALE.search(text):
        issues.append(
            QualityIssue(
                "no_scale",
                (
                    "请写明已部署的规模或产能，如台数、客户数、覆盖面积"
                    if offer
                    else "请写明规模，如点位数量、设备台数、覆盖面积或服务人数"
                ),
            )
        )
    if not TARGET.search(text):
        issues.append(
            QualityIssue(
                "no_target",
                (
                    "请写明关键性能指标，如准确率、响应时间、续航或节能比例"
                    if offer
                    else "请写明希望达到的指标，如识别准确率、响应时间或降低多少成本"
                ),
            )
        )
    technology = _technology_words()
    if not any(w in technology for w in words) and not re.search(r"[A-Za-z]{2,}", text):
        issues.append(
            QualityIssue(
                "no_technology",
                "请写明希望应用的技术或产品方向，如无人机、视频分析、"
                "物联网传感器、大模型",
            )
        )
    return issues


def is_too_vague(issues: list[QualityIssue]) -> bool:
    """Too vague to match: short or generic, or missing three of the specifics."""
    codes = {issue.code for issue in issues}
    return bool(codes & {"too_short", "generic"}) or len(codes) >= 3
