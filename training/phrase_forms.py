"""Write the training tunes' phrase forms beside a melody model (`phrase_forms.json`), for the handler's plans.

    python -m training.phrase_forms [--model-dir models/melody-rnn] [--exclude-collection ryansMammoth]

Only the training split is read (the split the model was trained on; validation and test tunes stay unseen).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from music.phrase_forms import FORMS_FILE, collect_forms
from training.melody_corpus import by_split, load_corpus

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "melody-rnn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--exclude-collection", action="append", default=[],
                        help="a corpus collection to leave out (e.g. one kept as an unseen reference)")
    args = parser.parse_args()
    tunes = [t.events for t in by_split(load_corpus(), "train") if t.collection not in args.exclude_collection]
    forms = collect_forms(tunes)
    path = args.model_dir / FORMS_FILE
    document = {**forms.to_dict(), "source": "music21 corpus, training split", "tunes": sum(forms.weights),
                "excluded_collections": args.exclude_collection}
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    repeated = sum(w * sum(lag > 0 for lag in f) for f, w in zip(forms.forms, forms.weights, strict=True))
    print(f"{len(forms.forms)} forms from {sum(forms.weights)} tunes; {repeated / sum(forms.weights):.2f} "
          f"repeated bars per 16-bar tune; written to {path}")


if __name__ == "__main__":
    main()
