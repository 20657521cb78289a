"""``python -m adwatch.demo_site [--port P]``: serve the demo site in the foreground.

With ``--generated N`` it serves the generated benchmark site of N pages instead.
"""

from __future__ import annotations

import argparse

from adwatch.demo_site.demo import DemoSite
from adwatch.demo_site.generated import GeneratedSite
from adwatch.demo_site.server import SiteServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m adwatch.demo_site",
        description="Serve the AdWatch demo site on 127.0.0.1 in the foreground.",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port; default 8765)"
    )
    parser.add_argument(
        "--generated", type=int, metavar="N", help="serve the generated site of N pages instead"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated site (default 1)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    site: SiteServer
    if args.generated:
        site = GeneratedSite(pages=args.generated, seed=args.seed, port=args.port, verbose=args.verbose)
    else:
        site = DemoSite(port=args.port, verbose=args.verbose)
    site.start()
    print(f"serving on {site.base_url}/  (Ctrl-C to stop)", flush=True)
    if isinstance(site, DemoSite):
        for section in site.sections.values():
            print(f"  {site.base_url}{section.index}  {section.title}", flush=True)
        print(f"  {site.base_url}/special/  special routes for crawler tests", flush=True)
    else:
        print(f"  {len(site.page_paths)} pages from {site.base_url}/", flush=True)
    site.serve_forever()


if __name__ == "__main__":
    main()
