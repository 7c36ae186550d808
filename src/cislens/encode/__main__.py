"""Command line used by the workflow's download rules (and usable by hand).

    python -m cislens.encode peaks ENCFF123ABC --assembly GRCh38 --out p.bed.gz --metadata p.json
    python -m cislens.encode peaks ENCFF123ABC ENCSR456DEF --assembly GRCh38 --out dir/   # in parallel
    python -m cislens.encode signal ENCFF987ZYX --assembly GRCh38 --out s.bigWig --metadata s.json
    python -m cislens.encode genome GRCh38 --url /files/.../@@download/x.fasta.gz --out g.fa.gz

Each file has ``--deadline`` seconds for everything (metadata, attempts, waits). Progress goes to
``--log`` (and stderr when no log is given); bad input or a failed download ends with one line per
file, ``cislens error: <file or accession>: ...``, on stderr and in the log, and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import InputError
from ..plan import encode_defaults
from .download import DEADLINE, GENOME_DEADLINE
from .portal import WORKERS, fetch_genome, fetch_peaks, fetch_peaks_many


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cislens.encode", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", default=encode_defaults()["base_url"])
    common.add_argument("--retries", type=int, default=encode_defaults()["retries"])
    common.add_argument(
        "--timeout",
        type=float,
        default=encode_defaults()["timeout"],
        help="seconds any one network operation may wait",
    )
    common.add_argument(
        "--backoff", type=float, default=1.0, help="seconds before the first retry (doubling)"
    )
    common.add_argument("--log", help="progress log (default: stderr)")
    sub = parser.add_subparsers(dest="what", required=True)
    peaks = sub.add_parser(
        "peaks", parents=[common], help="peak files by ENCFF or ENCSR accession (several: in parallel)"
    )
    peaks.add_argument("accession", nargs="+")
    peaks.add_argument(
        "--out", required=True, help="the file; with several accessions a folder (<accession>.bed.gz)"
    )
    peaks.add_argument("--assembly", help="GRCh38, mm10, ...; 'any' or absent: the file's own")
    peaks.add_argument(
        "--metadata", help="JSON record of what was downloaded (default: beside --out, <name>.json)"
    )
    peaks.add_argument(
        "--output-types",
        default=json.dumps(encode_defaults()["output_types"]),
        help="JSON list, preferred first",
    )
    peaks.add_argument(
        "--deadline", type=float, default=DEADLINE, help=f"seconds per file, all included ({DEADLINE:g})"
    )
    peaks.add_argument("--jobs", type=int, default=WORKERS, help="accessions fetched at once")
    signal = sub.add_parser("signal", parents=[common], help="a bigWig signal track by ENCFF accession")
    signal.add_argument("accession")
    signal.add_argument("--out", required=True, help="the bigWig file")
    signal.add_argument("--assembly", help="GRCh38, mm10, ...; 'any' or absent: the file's own")
    signal.add_argument("--metadata", help="JSON record of what was downloaded (default: beside --out)")
    signal.add_argument(
        "--deadline", type=float, default=DEADLINE, help=f"seconds, all included ({DEADLINE:g})"
    )
    genome = sub.add_parser("genome", parents=[common], help="a reference FASTA by assembly")
    genome.add_argument("assembly")
    genome.add_argument("--out", required=True)
    genome.add_argument("--url", required=True, help="absolute, or relative to --base-url")
    genome.add_argument("--md5", default=None, help="expected md5 (default: from ENCODE's metadata)")
    genome.add_argument(
        "--deadline", type=float, default=GENOME_DEADLINE, help=f"seconds, all included ({GENOME_DEADLINE:g})"
    )
    return parser


def _metadata_path(out: str) -> Path:
    out_path = Path(out)
    name = out_path.name.removesuffix(".gz").removesuffix(".bed").removesuffix(".bigWig")
    return out_path.with_name(f"{name}.json")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.deadline <= 0:
        parser.error("--deadline must be positive")
    log_file = open(args.log, "a", buffering=1) if args.log else None

    def log(message: str) -> None:
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}"
        print(line, file=log_file or sys.stderr, flush=True)

    def error(problem: InputError) -> None:
        message = f"cislens error: {problem}"
        print(message, file=sys.stderr, flush=True)
        if log_file:
            print(message, file=log_file, flush=True)

    options = {
        "retries": args.retries,
        "timeout": args.timeout,
        "deadline": args.deadline,
        "backoff": args.backoff,
        "log": log,
    }
    try:
        if args.what == "peaks":
            assembly = None if args.assembly in (None, "", "any") else args.assembly
            peak_options = {
                **options,
                "base_url": args.base_url,
                "output_types": json.loads(args.output_types),
            }
            if len(args.accession) == 1:
                metadata = args.metadata or _metadata_path(args.out)
                fetch_peaks(args.accession[0], assembly, args.out, metadata, **peak_options)
            else:
                if args.metadata:
                    parser.error("--metadata names one file: with several accessions it goes beside each")
                results = fetch_peaks_many(
                    args.accession, assembly, args.out, workers=args.jobs, **peak_options
                )
                failed = [result for result in results.values() if isinstance(result, InputError)]
                for problem in failed:
                    error(problem)
                return 1 if failed else 0
        elif args.what == "signal":
            assembly = None if args.assembly in (None, "", "any") else args.assembly
            metadata = args.metadata or _metadata_path(args.out)
            fetch_peaks(
                args.accession, assembly, args.out, metadata, base_url=args.base_url, output_types=[],
                file_format="bigWig", **options,
            )  # fmt: skip
        else:
            md5 = args.md5 or None  # '' from the rule: unknown, look it up
            fetch_genome(args.assembly, args.url, args.out, base_url=args.base_url, md5=md5, **options)
    except InputError as problem:
        error(problem)
        return 1
    finally:
        if log_file:
            log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
