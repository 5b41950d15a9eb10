"""Child process for the crash test: learns bAbI sentences one document per durable write, and prints each
document id only after `learn_documents` has returned (that is, after the write was acknowledged)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sutra.engine import Sutra
from sutra.learning import nlp
from sutra.model import Document


def main() -> None:
    data_dir, corpus, start = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rows = []
    with corpus.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= start + 400:
                break
            if i >= start:
                rows.append(json.loads(line))
    with Sutra(data_dir, fsync="always") as space:
        space.embedder.embed(["warm up"])  # load the models before the parent starts its clock
        nlp.load()
        print("ready", flush=True)
        for row in rows:
            space.learn_documents([Document(id=row["id"], text=row["text"])])
            print(row["id"], flush=True)


if __name__ == "__main__":
    main()
