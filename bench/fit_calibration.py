"""Fit the default answer-confidence model (qa.answers.calibration.DEFAULT_CALIBRATION) and report it on
held-out questions.

Fitting sets (all in the repository or ../shared):
  * pyfaq's 157 answerable questions over the Python docs;
  * the fitting half of the unanswerable pyfaq questions (bench/data/pyfaq_unanswerable_fit.jsonl:
    plausible questions about tools and versions the docs never mention, key terms checked absent
    with bench/check_unanswerable.py);
  * 12 answerable and 12 unanswerable questions about the sample article
    (bench/data/sample_calibration.jsonl), so the model also sees what the signals look like on a
    tiny index (7 passages).
Reported, never fitted on: the held-out half (bench/data/pyfaq_unanswerable_heldout.jsonl), the
20 off-topic questions of bench/data/pyfaq_unanswerable.jsonl and the seed questions
(data/sample_questions.jsonl).

    python bench/fit_calibration.py [--index data/indexes/pyfaq] [--seed-index DIR]

Prints the fitted model as a Python literal (to paste into qa/answers/calibration.py) and, for a range of
thresholds, the share of each set that would be declined.
"""

from __future__ import annotations

import argparse
import tempfile

from common import PYFAQ, ROOT, save

SETS = {
    "pyfaq": (PYFAQ / "questions.jsonl", "pyfaq", True),
    "absent-fit": (ROOT / "bench" / "data" / "pyfaq_unanswerable_fit.jsonl", "pyfaq", True),
    "absent-heldout": (ROOT / "bench" / "data" / "pyfaq_unanswerable_heldout.jsonl", "pyfaq", False),
    "off-topic": (ROOT / "bench" / "data" / "pyfaq_unanswerable.jsonl", "pyfaq", False),
    "sample-fit": (ROOT / "bench" / "data" / "sample_calibration.jsonl", "seed", True),
    "seed": (ROOT / "data" / "sample_questions.jsonl", "seed", False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "data" / "indexes" / "pyfaq"))
    parser.add_argument("--seed-index", default=None, help="index of data/sample (built in a temporary folder if not given)")
    parser.add_argument("--l2", type=float, default=None, help="L2 penalty (default: chosen by cross-validated AUROC)")
    args = parser.parse_args()

    from qa import QA
    from qa.answers.calibration import fit_calibration
    from qa.evaluation import metrics as M
    from qa.evaluation.run import load_questions

    indexes = {"pyfaq": QA.load(args.index)}
    if args.seed_index:
        indexes["seed"] = QA.load(args.seed_index)
    else:
        indexes["seed"] = QA.build([ROOT / "data" / "sample"], index_dir=tempfile.mkdtemp(prefix="seed-index-"))

    rows = []
    for name, (path, index, fitted) in SETS.items():
        qa = indexes[index]
        for q in load_questions(path):
            answer = qa.ask(q.question)
            rows.append({"set": name, "id": q.id, "answerable": q.answerable, "fitted": fitted, "signals": dict(answer.signals)})
    fit_rows = [r for r in rows if r["fitted"]]
    # Each corpus counts as much as the other (the sample article has 24 questions, pyfaq 192),
    # so the model serves a folder of a few files as well as a large documentation set.
    per_corpus = {}
    for r in fit_rows:
        per_corpus[SETS[r["set"]][1]] = per_corpus.get(SETS[r["set"]][1], 0) + 1
    weights = [len(fit_rows) / (len(per_corpus) * per_corpus[SETS[r["set"]][1]]) for r in fit_rows]
    # Feature choice and regularisation are judged by 5-fold cross-validated AUROC on the fitting
    # rows only, never on the held-out sets.
    from qa.answers.calibration import CALIBRATION_FEATURES, SIGNALS

    def cross_validated_auroc(features, l2):
        scores = [0.0] * len(fit_rows)
        for fold in range(5):
            train = [i for i in range(len(fit_rows)) if i % 5 != fold]
            part = fit_calibration([fit_rows[i]["signals"] for i in train], [fit_rows[i]["answerable"] for i in train],
                                   weights=[weights[i] for i in train], l2=l2, features=features)
            for i in range(fold, len(fit_rows), 5):
                scores[i] = part.probability(fit_rows[i]["signals"])
        return M.auroc(scores, [r["answerable"] for r in fit_rows])

    if args.l2 is None:
        by_l2 = {l2: cross_validated_auroc(CALIBRATION_FEATURES, l2) for l2 in (0.1, 0.3, 1.0, 3.0, 10.0)}
        print("cross-validated AUROC by L2 penalty: " + ", ".join(f"{l2}: {auc:.4f}" for l2, auc in by_l2.items()))
        args.l2 = max(by_l2, key=lambda l2: (round(by_l2[l2], 4), l2))  # ties: the stronger penalty
    print(f"L2 penalty {args.l2}")
    model = fit_calibration(
        [r["signals"] for r in fit_rows], [r["answerable"] for r in fit_rows], weights=weights, l2=args.l2, fitted_on="bench/fit_calibration.py"
    )
    print(f"cross-validated AUROC on the fitting sets: default features {cross_validated_auroc(CALIBRATION_FEATURES, args.l2):.4f}")
    for extra in [f for f in SIGNALS if f not in CALIBRATION_FEATURES]:
        print(f"  + {extra}: {cross_validated_auroc(CALIBRATION_FEATURES + (extra,), args.l2):.4f}")
    for dropped in CALIBRATION_FEATURES:
        print(f"  - {dropped}: {cross_validated_auroc(tuple(f for f in CALIBRATION_FEATURES if f != dropped), args.l2):.4f}")
    print("DEFAULT_CALIBRATION = Calibration(")
    for key, value in model.to_dict().items():
        print(f"    {key}={tuple(value) if isinstance(value, list) else value!r},")
    print(")")
    for r in rows:
        r["confidence"] = model.probability(r["signals"])
    # The default threshold is chosen on the fitting sets only: the highest one (in steps of 0.05)
    # at which at most 3 % of the answerable fitting questions are declined.
    answerable = [r for r in fit_rows if r["answerable"]]
    threshold = 0.0
    for step in range(1, 20):
        if sum(r["confidence"] < step / 20 for r in answerable) <= 0.03 * len(answerable):
            threshold = step / 20
    print(f"abstain_threshold = {threshold}  (highest with <= 3 % of the {len(answerable)} answerable fitting questions declined)")

    print("\nshare declined at each threshold (fitted sets marked *)")
    names = list(SETS)
    print("threshold  " + "  ".join(f"{n + ('*' if SETS[n][2] else ''):>15}" for n in names))
    sweep = {}
    for t in sorted({0.1, 0.2, 0.3, 0.4, 0.5, threshold}):
        shares = {}
        for n in names:
            group = [r for r in rows if r["set"] == n]
            shares[n] = sum(r["confidence"] < t for r in group) / len(group)
        sweep[t] = shares
        print(f"{t:>9}  " + "  ".join(f"{shares[n]:>15.3f}" for n in names) + ("   <- chosen" if t == threshold else ""))
    aurocs = {}
    for held in ("absent-heldout", "off-topic", "seed"):
        group = [r for r in rows if r["set"] in (("pyfaq", held) if held != "seed" else ("seed",))]
        aurocs[held] = M.auroc([r["confidence"] for r in group], [r["answerable"] for r in group])
        print(f"AUROC {'pyfaq vs ' + held if held != 'seed' else 'seed answerable vs unanswerable'}: {aurocs[held]:.3f}")
    save("calibration", {"model": model.to_dict(), "threshold": threshold, "sweep": sweep, "auroc": aurocs, "questions": rows})


if __name__ == "__main__":
    main()
