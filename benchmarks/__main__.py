"""`python -m benchmarks NAME [args]` runs benchmarks/NAME.py's main()."""

from __future__ import annotations

import importlib
import sys


def main() -> None:
    if len(sys.argv) < 2:
        names = ("face_vs_fer|face_models|detector_crop|client_batching|text_quality|text_batching|melody|"
                 "recommendations|gpu_sweep")
        print(f"usage: python -m benchmarks {{{names}}} [args]", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(f"benchmarks.{sys.argv[1]}")
    sys.argv = [f"benchmarks.{sys.argv[1]}", *sys.argv[2:]]
    module.main()


if __name__ == "__main__":
    main()
