#!/usr/bin/env python3
"""Copies the default run's document subset from ../shared/corpora into assets/default/corpus.

Deterministic (fixed lists, first-N records): re-running it reproduces the committed files
byte for byte. A build tool only (Debian python3); golongrl never runs it.
"""
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "..", "shared", "corpora")
DST = os.path.join(ROOT, "assets", "default", "corpus")

BOOKS = [
    "pg11_alice_in_wonderland.txt",
    "pg1952_yellow_wallpaper.txt",
    "pg43_jekyll_and_hyde.txt",
    "pg46_a_christmas_carol.txt",
    "pg219_heart_of_darkness.txt",
    "pg244_a_study_in_scarlet.txt",
]
PAPERS = [  # the six smallest JATS files of the PLOS starter corpus (CC BY 4.0)
    "journal.pone.0117014",
    "journal.pone.0111971",
    "journal.pone.0152459",
    "journal.pone.0119705",
    "journal.pone.0119074",
    "journal.pone.0121226",
]
QMSUM_MEETINGS = 10  # first meetings of qmsum_all_val.jsonl
SGD_DIALOGUES = 64  # first dialogues of each SGD file
SPEECHES_EVERY = 8  # every 8th State of the Union address


def main() -> None:
    if os.path.exists(DST):
        shutil.rmtree(DST)
    os.makedirs(os.path.join(DST, "books"))
    for b in BOOKS:
        shutil.copyfile(os.path.join(SRC, "books", b), os.path.join(DST, "books", b))
    os.makedirs(os.path.join(DST, "papers"))
    for p in PAPERS:
        shutil.copyfile(os.path.join(SRC, "papers", "plos_xml", p + ".xml"),
                        os.path.join(DST, "papers", p + ".xml"))
    os.makedirs(os.path.join(DST, "meetings"))
    with open(os.path.join(SRC, "dialogues", "qmsum", "qmsum_all_val.jsonl"), encoding="utf-8") as f:
        lines = [l for l in f if l.strip()][:QMSUM_MEETINGS]
    with open(os.path.join(DST, "meetings", "qmsum_all_val.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    shutil.copyfile(os.path.join(SRC, "dialogues", "qmsum", "LICENSE_QMSum_MIT.txt"),
                    os.path.join(DST, "meetings", "LICENSE_QMSum_MIT.txt"))
    os.makedirs(os.path.join(DST, "dialogues"))
    for name in ["sgd_dev_dialogues_001.json", "sgd_test_dialogues_001.json"]:
        with open(os.path.join(SRC, "dialogues", "sgd", name), encoding="utf-8") as f:
            data = json.load(f)[:SGD_DIALOGUES]
        with open(os.path.join(DST, "dialogues", name), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
    shutil.copyfile(os.path.join(SRC, "dialogues", "sgd", "LICENSE_SGD_CC-BY-SA-4.0.txt"),
                    os.path.join(DST, "dialogues", "LICENSE_SGD_CC-BY-SA-4.0.txt"))
    os.makedirs(os.path.join(DST, "speeches"))
    with open(os.path.join(SRC, "speeches", "sotu_state_of_the_union_1790_2021.jsonl"), encoding="utf-8") as f:
        lines = [l for l in f if l.strip()][::SPEECHES_EVERY]
    with open(os.path.join(DST, "speeches", "sotu_subset.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    shutil.copyfile(os.path.join(SRC, "speeches", "LICENSE_stdlib_Apache-2.0.txt"),
                    os.path.join(DST, "speeches", "LICENSE_stdlib_Apache-2.0.txt"))
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(DST) for f in fs)
    print(f"{DST}: {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
