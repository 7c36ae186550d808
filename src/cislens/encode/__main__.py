"""Command line used by the workflow's download rules (and usable by hand).

    python -m cislens.encode peaks ENCFF123ABC --assembly GRCh38 --out p.bed.gz --metadata p.json
    python -m cislens.encode genome GRCh38 --url /files/.../@@download/x.fasta.gz --out g.fa.gz

Progress goes to ``--log`` (and stderr when no log is given); bad input or a failed download ends
with one line, ``cislens error: ...``, on stderr and in the log, and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..config import DEFAULT_ENCODE
from ..errors import InputError
from .portal import fetch_genome, fetch_peaks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cislens.encode", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", required=True)
    common.add_argument("--base-url", default=DEFAULT_ENCODE["base_url"])
    common.add_argument("--retries", type=int, default=DEFAULT_ENCODE["retries"])
    common.add_argument("--timeout", type=float, default=DEFAULT_ENCODE["timeout"])
    common.add_argument(
        "--backoff", type=float, default=1.0, help="seconds before the first retry (doubling)"
    )
    common.add_argument("--log", help="progress log (default: stderr)")
    sub = parser.add_subparsers(dest="what", required=True)
    peaks = sub.add_parser("peaks", parents=[common], help="a peak file by ENCFF or ENCSR accession")
    peaks.add_argument("accession")
    peaks.add_argument("--assembly", help="GRCh38, mm10, ...; 'any' or absent: the file's own")
    peaks.add_argument("--metadata", required=True, help="JSON record of what was downloaded")
    peaks.add_argument(
        "--output-types",
        default=json.dumps(DEFAULT_ENCODE["output_types"]),
        help="JSON list, preferred first",
    )
    genome = sub.add_parser("genome", parents=[common], help="a reference FASTA by assembly")
    genome.add_argument("assembly")
    genome.add_argument("--url", required=True, help="absolute, or relative to --base-url")
    genome.add_argument("--md5", default=None, help="expected md5 (default: from ENCODE's metadata)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log_file = open(args.log, "a", buffering=1) if args.log else None

    def log(message: str) -> None:
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}"
        print(line, file=log_file or sys.stderr, flush=True)

    options = {"retries": args.retries, "timeout": args.timeout, "backoff": args.backoff, "log": log}
    try:
        if args.what == "peaks":
            assembly = None if args.assembly in (None, "", "any") else args.assembly
            fetch_peaks(
                args.accession,
                assembly,
                args.out,
                args.metadata,
                base_url=args.base_url,
                output_types=json.loads(args.output_types),
                **options,
            )
        else:
            md5 = args.md5 or None  # '' from the rule: unknown, look it up
            fetch_genome(args.assembly, args.url, args.out, base_url=args.base_url, md5=md5, **options)
    except InputError as error:
        message = f"cislens error: {error}"
        print(message, file=sys.stderr, flush=True)
        if log_file:
            print(message, file=log_file, flush=True)
        return 1
    finally:
        if log_file:
            log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
