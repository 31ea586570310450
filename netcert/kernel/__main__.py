"""python -m netcert.kernel CERT... [--full] [--sample K] [--allow-outside]: exit 0 if all check, 1 if one fails,
3 if unreadable."""
import argparse
import sys

from . import check_certificate

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m netcert.kernel", description=__doc__)
    parser.add_argument("certs", nargs="+", metavar="CERT", help="a *.cert.json file")
    parser.add_argument("--full", action="store_true", help="evaluate every point, recompute outputs_digest")
    parser.add_argument("--sample", type=int, default=None, metavar="K",
                        help="also check a sample of K points (default: only the certificate's own sample)")
    parser.add_argument("--allow-outside", action="store_true", help="follow paths out of the certificate's directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print what was not rechecked")
    args, code = parser.parse_args(argv), 0
    for path in args.certs:
        v = check_certificate(path, sample=args.sample if args.sample and args.sample > 0 else None, full=args.full,
                              allow_outside=args.allow_outside)
        print(f"OK {path} ({v.mode}, {v.points_checked} points)" if v.ok else f"FAIL {path}")
        for line in [f"{f.where}: expected {f.expected}, found {f.found}" for f in v.failures] + [
                f"note: {note}" for note in v.notes if args.verbose]:
            print(f"  {line}")
        unreadable = any(f.where == "certificate file" for f in v.failures)
        code = max(code, 3 if unreadable else 0 if v.ok else 1)
    return code

if __name__ == "__main__":
    sys.exit(main())
