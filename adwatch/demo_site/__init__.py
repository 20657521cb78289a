"""The bundled demo site and the generated benchmark site, served on 127.0.0.1.

    from adwatch.demo_site import DemoSite, GeneratedSite, SAMPLE_APPROVALS, demo_pages
    with DemoSite.serve(port=0) as site:          # a free port, served in a background thread
        site.base_url                              # "http://127.0.0.1:PORT"
        site.hits                                  # Counter of request targets served
    demo_pages()                                   # every page and what AdWatch should make of it
    with GeneratedSite.serve(pages=2000, seed=1) as site:
        site.page_paths                            # the N pages a crawl from "/" must find

``python -m adwatch.demo_site [--port P]`` serves the demo site in the foreground.
"""

from pathlib import Path

from adwatch.demo_site.catalogue import DemoPage, Section
from adwatch.demo_site.demo import DemoSite, demo_pages, sections
from adwatch.demo_site.generated import GeneratedSite
from adwatch.demo_site.special import SPECIAL_ROUTES, SpecialRoute

# 《医疗广告审查证明》 records for the demo, UTF-8 CSV with the columns of APPROVAL_COLUMNS.
SAMPLE_APPROVALS: Path = Path(__file__).resolve().parent / "approvals.csv"
APPROVAL_COLUMNS = ("文号", "机构名称", "地址", "诊疗科目", "发布媒介", "有效期起", "有效期止", "审查内容")

__all__ = [
    "APPROVAL_COLUMNS",
    "SAMPLE_APPROVALS",
    "SPECIAL_ROUTES",
    "DemoPage",
    "DemoSite",
    "GeneratedSite",
    "Section",
    "SpecialRoute",
    "demo_pages",
    "sections",
]
