"""Evaluate retrieval, answers and abstention on a question set; write a report.

Works with anything that has ``search(question, k, **overrides) -> list[Hit]`` (and, for answer
metrics, ``ask(question, **overrides) -> Answer``), so :meth:`qa.QA.evaluate` simply delegates
here. Question sets:

* JSONL ``{"id", "question", "evidence"}`` — relevant passages contain the evidence (the 70 %
  trigram rule of :mod:`qa.evaluation.relevance`); ``"evidence": null`` marks an unanswerable question.
* JSONL ``{"id", "question", "answers": [...]}`` — relevant passages contain an answer string;
  an empty list marks an unanswerable question.
* A BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``) — relevance by
  document id (a document counts once, at its best-ranked passage).

Retrieval metrics are computed over answerable questions only; abstention metrics over all.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..answers.calibration import fit_calibration
from ..answers.composition import prose_words
from ..errors import InputError
from ..types import Answer, Hit, Passage
from . import metrics as M
from .relevance import contains_answer, evidence_coverage, normalize_tokens, supports

HIT_KS = (1, 3, 5, 10)
HEADLINE = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10")
COMPARED = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_sentence_accuracy")


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a set and what makes a passage relevant to it."""

    id: str
    question: str
    evidence: str | None = None
    answers: tuple[str, ...] = ()
    relevant_docs: Mapping[str, int] = field(default_factory=dict)
    kind: str = "evidence"  # "evidence" | "answers" | "qrels"

    @property
    def answerable(self) -> bool:
        if self.kind == "evidence":
            return bool(self.evidence)
        if self.kind == "answers":
            return bool(self.answers)
        return any(g > 0 for g in self.relevant_docs.values())

    def gain(self, passage: Passage) -> float:
        """Relevance of one passage (for ``qrels`` see :func:`ranked_gains`)."""
        if self.kind == "evidence":
            return 1.0 if self.evidence and supports(passage.text, self.evidence) else 0.0
        if self.kind == "answers":
            return 1.0 if contains_answer(passage.text, list(self.answers)) else 0.0
        return float(self.relevant_docs.get(document_key(passage), 0))


def document_key(passage: Passage) -> str:
    """The id a BEIR qrels file uses for the passage's document: the JSONL record id."""
    return passage.source.rsplit("#", 1)[1] if "#" in passage.source else passage.source


def ranked_gains(question: EvalQuestion, hits: Sequence[Hit]) -> list[float]:
    """Gains of a ranked list; with qrels a document counts only at its first passage."""
    if question.kind != "qrels":
        return [question.gain(h.passage) for h in hits]
    seen: set[str] = set()
    gains = []
    for hit in hits:
        key = document_key(hit.passage)
        gains.append(0.0 if key in seen else question.gain(hit.passage))
        seen.add(key)
    return gains


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: invalid JSON ({exc.msg}); each line must be one JSON object") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: each line must be a JSON object, got {type(row).__name__}")
            rows.append(row)
    return rows


def _load_beir(folder: Path) -> list[EvalQuestion]:
    queries_path = folder / "queries.jsonl"
    qrels_path = next((p for p in (folder / "qrels" / "test.tsv", folder / "qrels" / "dev.tsv") if p.exists()), None)
    if not queries_path.exists() or qrels_path is None:
        raise InputError(f"{folder} is not a BEIR folder: it needs queries.jsonl and qrels/test.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if number == 1 and parts[0] in ("query-id", "qid"):
                continue
            if len(parts) < 3:
                raise InputError(f"{qrels_path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score'")
            try:
                qrels.setdefault(parts[0], {})[parts[1]] = int(float(parts[2]))
            except ValueError:
                raise InputError(f"{qrels_path}:{number}: the score {parts[2]!r} is not a number") from None
    questions = []
    for row in _read_jsonl(queries_path):
        qid = str(row.get("_id", row.get("id", "")))
        if qid in qrels:
            questions.append(EvalQuestion(id=qid, question=str(row.get("text", "")), relevant_docs=qrels[qid], kind="qrels"))
    if not questions:
        raise InputError(f"no query of {queries_path} has judgements in {qrels_path}")
    return questions


def load_questions(path: str | os.PathLike[str]) -> list[EvalQuestion]:
    """Read a question set (JSONL with evidence or answers, or a BEIR folder).

    >>> load_questions("missing.jsonl")
    Traceback (most recent call last):
    ...
    qa.errors.InputError: question set 'missing.jsonl' does not exist
    """
    path = Path(path)
    if path.is_dir():
        return _load_beir(path)
    if not path.exists():
        raise InputError(f"question set {str(path)!r} does not exist")
    questions = []
    seen: set[str] = set()
    for number, row in enumerate(_read_jsonl(path), 1):
        question = row.get("question", row.get("query", row.get("text")))
        if not isinstance(question, str) or not question.strip():
            raise InputError(f"{path}:{number}: no 'question' text")
        qid = str(row.get("id", row.get("_id", number)))
        if qid in seen:
            raise InputError(f"{path}:{number}: duplicate question id {qid!r}")
        seen.add(qid)
        if "answers" in row:
            answers = row["answers"] or []
            if isinstance(answers, str):
                answers = [answers]
            questions.append(EvalQuestion(id=qid, question=question, answers=tuple(str(a) for a in answers), kind="answers"))
        elif "evidence" in row:
            evidence = row["evidence"]
            if evidence is not None and not isinstance(evidence, str):
                raise InputError(f"{path}:{number}: 'evidence' must be a string or null")
            questions.append(EvalQuestion(id=qid, question=question, evidence=evidence, kind="evidence"))
        else:
            raise InputError(f"{path}:{number}: each question needs 'evidence' (string or null) or 'answers' (list)")
    if not questions:
        raise InputError(f"question set {str(path)!r} is empty")
    return questions


def _ideal_gains(question: EvalQuestion, passages: Sequence[Passage] | None, normalized: list[str] | None) -> list[float] | None:
    """Gains of every relevant item in the collection, or ``None`` when it cannot be known."""
    if question.kind == "qrels":
        return [float(g) for g in question.relevant_docs.values() if g > 0]
    if passages is None or normalized is None or not question.answerable:
        return None
    if question.kind == "answers":
        return [1.0 for p in passages if contains_answer(p.text, list(question.answers))]
    tokens = normalize_tokens(question.evidence or "")
    n = 3 if len(tokens) >= 3 else 1
    grams = list(dict.fromkeys(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)))
    # A passage holding >= 70 % of the distinct n-grams holds at least one of any 31 % of them.
    probes = [f" {g} " for g in grams[: max(1, math.floor(0.3 * len(grams)) + 1)]]
    gains = []
    for passage, text in zip(passages, normalized):
        if any(probe in text for probe in probes) and supports(passage.text, question.evidence or ""):
            gains.append(1.0)
    return gains


def sentence_matches_evidence(sentence: str, evidence: str) -> bool:
    """The highlighted sentence holds the evidence, or lies inside it (evidence of two
    sentences cannot fit in one highlighted sentence)."""
    return supports(sentence, evidence) or evidence_coverage(evidence, sentence) >= 0.7


@dataclass
class EvalResult:
    """Settings, aggregate metrics and per-question records of one evaluation run."""

    settings: dict[str, Any]
    metrics: dict[str, Any]
    questions: list[dict[str, Any]]
    # Retrieved passage texts per question id, for run.jsonl (the reference scorer's input);
    # kept out of results.json, which stays small.
    passage_texts: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "metrics": self.metrics, "questions": self.questions}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EvalResult":
        return cls(settings=dict(data.get("settings") or {}), metrics=dict(data["metrics"]), questions=list(data["questions"]))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "EvalResult":
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise InputError(f"cannot read evaluation results {str(path)!r} ({exc}); pass a results.json written by qa eval") from None

    def value(self, name: str) -> float:
        item = self.metrics.get(name)
        return item["value"] if isinstance(item, dict) else item

    def table(self) -> str:
        """The metrics as an aligned text table."""
        lines = []
        for name, item in self.metrics.items():
            value, interval = _format_metric(item)
            lines.append(f"{name:<28} {value}" + (f"  (95% CI {interval})" if interval else ""))
        return "\n".join(lines)

    def save(self, out_dir: str | os.PathLike[str], *, run_name: str = "grounded-qa") -> dict[str, Path]:
        """Write results.json, run.trec (for trec_eval, ranx, ir_measures), run.jsonl (passage
        texts, for ``score_run.py``), report.md and the plots; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"results": out / "results.json", "run": out / "run.trec", "report": out / "report.md"}
        if self.passage_texts:
            paths["run_jsonl"] = out / "run.jsonl"
            with open(paths["run_jsonl"], "w", encoding="utf-8") as fh:
                for q in self.questions:
                    fh.write(json.dumps({"id": q["id"], "passages": self.passage_texts.get(q["id"], [])}, ensure_ascii=False) + "\n")
        tmp = paths["results"].with_suffix(".json.tmp")
        tmp.write_text(json.dumps(json_safe(self.to_dict()), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, paths["results"])
        with open(paths["run"], "w", encoding="utf-8") as fh:
            for q in self.questions:
                for rank, (pid, score) in enumerate(zip(q["passage_ids"], q["scores"]), 1):
                    fh.write(f"{q['id']} Q0 {pid} {rank} {score:.6f} {run_name}\n")
        paths.update(write_plots(self, out))
        paths["report"].write_text(render_report(self, {k: v.name for k, v in paths.items()}), encoding="utf-8")
        return paths


def _format_metric(item: Any) -> tuple[str, str]:
    """A metric's value and its confidence interval ("" when it has none) as text."""
    if isinstance(item, dict):
        return f"{item['value']:.4f}", f"{item['ci_low']:.4f}–{item['ci_high']:.4f}"
    if isinstance(item, float):
        return ("n/a" if math.isnan(item) else f"{item:.4f}"), ""
    return str(item), ""


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has neither), recursively."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def evaluate(
    system: Any,
    questions: Sequence[EvalQuestion] | str | os.PathLike[str],
    *,
    k: int = 10,
    answers: bool = True,
    progress: bool = False,
    **overrides: Any,
) -> EvalResult:
    """Run every question through ``system`` and compute the metrics.

    >>> result = qa.evaluate("questions.jsonl", k=10)        # doctest: +SKIP
    >>> result.metrics["hit@5"]["value"]                      # doctest: +SKIP
    """
    if not isinstance(questions, (list, tuple)):
        questions = load_questions(questions)
    if not questions:
        raise InputError("no questions to evaluate")
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}")
    from ..answers.answering import AnswerSettings

    answer_names = AnswerSettings.field_names()
    search_overrides = {n: v for n, v in overrides.items() if n not in answer_names}
    can_answer = answers and hasattr(system, "ask")
    passages = getattr(system, "passages", None)
    normalized = [" " + " ".join(normalize_tokens(p.text)) + " " for p in passages] if passages is not None else None

    # One untimed call first: the model loads lazily, and its load time is not a query's latency.
    system.search(questions[0].question, k=k, **search_overrides)
    iterator: Iterable[EvalQuestion] = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="questions", unit="q", file=sys.stderr)
    records = []
    texts: dict[str, list[str]] = {}
    for q in iterator:
        started = time.perf_counter()
        hits = system.search(q.question, k=k, **search_overrides)
        search_ms = (time.perf_counter() - started) * 1000
        gains = ranked_gains(q, hits)
        texts[q.id] = [h.passage.text for h in hits]
        ideal = _ideal_gains(q, passages, normalized)
        if ideal is None:  # collection unknown: the relevant items retrieved are all we know of
            ideal = [g for g in gains if g > 0]
        record: dict[str, Any] = {
            "id": q.id,
            "question": q.question,
            "answerable": q.answerable,
            "rank": M.first_relevant_rank(gains),
            "n_relevant": len(ideal),
            "rr@10": M.reciprocal_rank(gains, 10),
            "ndcg@10": M.ndcg_at_k(gains, ideal, 10),
            "recall@10": M.recall_at_k(gains, len(ideal), 10) if q.kind == "qrels" else M.hit_at_k(gains, 10),
            "search_ms": round(search_ms, 3),
            "passage_ids": [h.passage.id for h in hits],
            "scores": [round(float(h.score), 6) for h in hits],
        }
        for cut in HIT_KS:
            record[f"hit@{cut}"] = M.hit_at_k(gains, cut)
        if can_answer:
            started = time.perf_counter()
            answer: Answer = system.ask(q.question, **overrides)
            record["ask_ms"] = round((time.perf_counter() - started) * 1000, 3)
            record["abstained"] = answer.abstained
            record["confidence"] = round(answer.confidence, 6)
            record["signals"] = {name: round(float(value), 6) for name, value in answer.signals.items()}
            # The lead quote (citation [1]'s highlight, bold in the answer) is what a reader takes
            # as the answer.
            lead = answer.lead
            if lead:
                record["lead"] = lead
                record["answer_words"] = prose_words(lead, 0, len(lead))  # code blocks are not words read
            if q.evidence:
                record["evidence"] = q.evidence
            elif q.answers:
                record["evidence"] = " | ".join(q.answers)
            if q.answerable:
                cited = [q.gain(_citation_passage(c)) for c in answer.citations]
                record["evidence_cited"] = any(g > 0 for g in cited)
                if q.kind != "qrels":
                    record["answer_sentence_correct"] = bool(lead) and (
                        sentence_matches_evidence(lead, q.evidence or "") if q.kind == "evidence" else contains_answer(lead, list(q.answers))
                    )
        records.append(record)
    settings = _describe(system, k, overrides)
    return EvalResult(settings=settings, metrics=aggregate(records), questions=records, passage_texts=texts)


def _citation_passage(citation) -> Passage:
    return Passage(
        id=citation.passage_id,
        doc_id=citation.doc_id,
        source=citation.source,
        title=citation.title,
        text=citation.text,
        start=citation.start,
        end=citation.end,
    )


def _describe(system: Any, k: int, overrides: Mapping[str, Any]) -> dict[str, Any]:
    info = system.info() if hasattr(system, "info") else {}
    settings = {"k": k, **{key: info[key] for key in ("index_dir", "model", "precision", "chunking", "context", "documents", "passages") if key in info}}
    search = dict(info.get("search") or {})
    answer = dict(info.get("answer") or {})
    for name, value in overrides.items():
        (answer if name in answer else search)[name] = value
    settings["search"] = search
    settings["answer"] = answer
    return settings


def aggregate(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-question records -> the metrics block of ``results.json``."""
    answerable = [r for r in records if r["answerable"]]
    metrics: dict[str, Any] = {"questions": len(records), "answerable": len(answerable)}
    names = [f"hit@{cut}" for cut in HIT_KS] + ["mrr@10", "ndcg@10", "recall@10"]
    for name in names:
        key = "rr@10" if name == "mrr@10" else name
        values = [float(r[key]) for r in answerable]
        low, high = M.bootstrap_ci(values)
        metrics[name] = {"value": M.mean(values), "ci_low": low, "ci_high": high}
    if any("abstained" in r for r in records):
        # An abstention on an answerable question counts as a miss in both of these.
        cited = [float(bool(r.get("evidence_cited"))) for r in answerable]
        metrics["answered_with_evidence"] = M.mean(cited) if cited else float("nan")
        sentence = [float(r["answer_sentence_correct"]) for r in answerable if "answer_sentence_correct" in r]
        if sentence:
            low, high = M.bootstrap_ci(sentence)
            metrics["answer_sentence_accuracy"] = {"value": M.mean(sentence), "ci_low": low, "ci_high": high}
        words = [float(r["answer_words"]) for r in answerable if "answer_words" in r]
        if words:
            metrics["answer_words_mean"] = M.mean(words)
        metrics.update(M.abstention_scores([bool(r["abstained"]) for r in records], [bool(r["answerable"]) for r in records]))
        if any(not r["answerable"] for r in records) and answerable:
            # How well the confidence ranks answerable above unanswerable questions (1.0: always).
            metrics["confidence_auroc"] = M.auroc([float(r["confidence"]) for r in records], [bool(r["answerable"]) for r in records])
        ask = [r["ask_ms"] for r in records]
        metrics["ask_latency_p50_ms"] = M.percentile(ask, 50)
        metrics["ask_latency_p95_ms"] = M.percentile(ask, 95)
    search = [r["search_ms"] for r in records]
    metrics["search_latency_p50_ms"] = M.percentile(search, 50)
    metrics["search_latency_p95_ms"] = M.percentile(search, 95)
    return metrics


def compare(current: EvalResult, baseline: EvalResult) -> list[dict[str, Any]]:
    """Per-metric differences on the questions both runs share, with paired p-values."""
    base_by_id = {q["id"]: q for q in baseline.questions}
    shared = [(q, base_by_id[q["id"]]) for q in current.questions if q["id"] in base_by_id and q["answerable"]]
    if not shared:
        raise InputError("the two runs share no answerable question ids; compare runs of the same question set")
    rows = []
    for name in COMPARED:
        key = {"mrr@10": "rr@10", "answer_sentence_accuracy": "answer_sentence_correct"}.get(name, name)
        pairs = [(float(a[key]), float(b[key])) for a, b in shared if key in a and key in b]
        if not pairs:
            continue
        a_values, b_values = [p[0] for p in pairs], [p[1] for p in pairs]
        rows.append(
            {
                "metric": name,
                "current": M.mean(a_values),
                "baseline": M.mean(b_values),
                "difference": M.mean(a_values) - M.mean(b_values),
                "p_value": M.paired_randomization_test(a_values, b_values),
                "questions": len(pairs),
            }
        )
    return rows


def calibrate_index(qa: Any, result: EvalResult, *, source: str) -> None:
    """Refit the confidence model on this run's answers and store it in the index; the index is
    written only once the fit succeeded."""
    rows = [q for q in result.questions if "signals" in q]
    labels = [bool(q["answerable"]) for q in rows]
    calibration = fit_calibration([q["signals"] for q in rows], labels, fitted_on=f"{source} ({len(rows)} questions)")
    probabilities = [calibration.probability(q["signals"]) for q in rows]
    threshold = qa.answer_settings.abstain_threshold
    declined_yes = sum(1 for p, y in zip(probabilities, labels) if y and p < threshold)
    declined_no = sum(1 for p, y in zip(probabilities, labels) if not y and p < threshold)
    qa.calibration = calibration
    qa.save_settings()
    auroc = M.auroc(probabilities, labels)
    print(
        f"\ncalibrated the confidence on {len(rows)} questions (AUROC {auroc:.3f}); at the threshold {threshold:.2f} it "
        f"declines {declined_no} of {labels.count(False)} unanswerable and {declined_yes} of {labels.count(True)} answerable "
        f"questions of this set; saved in {qa.index_dir}"
    )


def write_plots(result: EvalResult, out: Path) -> dict[str, Path]:
    """hit@k curve, confidence distributions with the threshold, latency histogram (PNG)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a declared dependency
        return {}
    paths: dict[str, Path] = {}
    answerable = [q for q in result.questions if q["answerable"]]
    k = max((len(q["passage_ids"]) for q in result.questions), default=10) or 10
    if answerable:
        curve = [sum(1 for q in answerable if q["rank"] and q["rank"] <= c) / len(answerable) for c in range(1, k + 1)]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(1, k + 1), curve, marker="o")
        ax.set_xlabel("k")
        ax.set_ylabel("hit@k (answerable questions)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title("Share of questions with a supporting passage in the top k")
        fig.tight_layout()
        paths["hit_curve"] = out / "hit_at_k.png"
        fig.savefig(paths["hit_curve"], dpi=110)
        plt.close(fig)
    if any("confidence" in q for q in result.questions):
        fig, ax = plt.subplots(figsize=(6, 4))
        yes = [q["confidence"] for q in result.questions if q["answerable"] and "confidence" in q]
        no = [q["confidence"] for q in result.questions if not q["answerable"] and "confidence" in q]
        bins = [i / 20 for i in range(21)]
        if yes:
            ax.hist(yes, bins=bins, alpha=0.6, label=f"answerable ({len(yes)})")
        if no:
            ax.hist(no, bins=bins, alpha=0.6, label=f"unanswerable ({len(no)})")
        threshold = (result.settings.get("answer") or {}).get("abstain_threshold")
        if threshold is not None:
            ax.axvline(float(threshold), color="black", linestyle="--", label=f"threshold {float(threshold):.2f}")
        ax.set_xlabel("answer confidence")
        ax.set_ylabel("questions")
        ax.legend()
        ax.set_title("Confidence of answerable vs unanswerable questions")
        fig.tight_layout()
        paths["confidence"] = out / "confidence.png"
        fig.savefig(paths["confidence"], dpi=110)
        plt.close(fig)
    if any(not q["answerable"] for q in result.questions) and any("confidence" in q for q in result.questions):
        # Answer only above a threshold: how many questions are answered (coverage) against how
        # many of those answers are wrong (risk: an unanswerable question answered, or an
        # answerable one answered without the evidence cited).
        rated = [q for q in result.questions if "confidence" in q]
        curve = M.risk_coverage(
            [float(q["confidence"]) for q in rated], [bool(q["answerable"]) and bool(q.get("evidence_cited", True)) for q in rated]
        )
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([c for _, c, _ in curve], [r for _, _, r in curve], marker=".")
        ax.set_xlabel("coverage (share of questions answered)")
        ax.set_ylabel("risk (share of answers that are wrong)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        auroc = result.metrics.get("confidence_auroc")
        ax.set_title("Risk-coverage" + (f" (AUROC answerable vs not {auroc:.3f})" if isinstance(auroc, float) else ""))
        fig.tight_layout()
        paths["risk_coverage"] = out / "risk_coverage.png"
        fig.savefig(paths["risk_coverage"], dpi=110)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([q["search_ms"] for q in result.questions], bins=30, alpha=0.7, label="search")
    if any("ask_ms" in q for q in result.questions):
        ax.hist([q["ask_ms"] for q in result.questions if "ask_ms" in q], bins=30, alpha=0.6, label="ask (search + answer)")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title("Latency")
    fig.tight_layout()
    paths["latency"] = out / "latency.png"
    fig.savefig(paths["latency"], dpi=110)
    plt.close(fig)
    return paths


def render_report(result: EvalResult, files: Mapping[str, str]) -> str:
    """A Markdown report: settings, metrics table, plots, and the misses."""
    lines = ["# Evaluation report", "", "## Settings", "", "```json", json.dumps(json_safe(result.settings), indent=1), "```", ""]
    lines += ["## Metrics", "", "| metric | value | 95% CI |", "|---|---|---|"]
    for name, item in result.metrics.items():
        value, interval = _format_metric(item)
        lines.append(f"| {name} | {value} | {interval} |")
    lines.append("")
    for key, title in (("hit_curve", "hit@k"), ("confidence", "Answer confidence"), ("risk_coverage", "Risk-coverage"), ("latency", "Latency")):
        if key in files:
            lines += [f"## {title}", "", f"![{title}]({files[key]})", ""]
    lines += _failure_tables(result.questions)
    return "\n".join(lines)


def _cell(value: Any, limit: int = 160) -> str:
    """Text made safe for one Markdown table cell: one line, cut to ``limit``, HTML escaped and
    Markdown link/image/emphasis syntax neutralised (cells hold document text)."""
    if value is None or value == "":
        return "–"
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return re.sub(r"([\\`*_\[\]|!])", r"\\\1", html.escape(text, quote=False))


def _failure_tables(questions: Sequence[Mapping[str, Any]], limit: int = 25) -> list[str]:
    """What fails, so a reader can see why: answerable questions whose lead quote is not the
    answer (confidently wrong first), declined answerable questions, and unanswerable questions
    that were answered (most confident first)."""
    lines: list[str] = []
    header = ["| id | question | evidence | lead quote given | first supporting rank | confidence |", "|---|---|---|---|---|---|"]

    def row(q: Mapping[str, Any]) -> str:
        rank = q.get("rank") or f"none in top {len(q.get('passage_ids') or [])}"
        return (
            f"| {_cell(q['id'], 40)} | {_cell(q['question'])} | {_cell(q.get('evidence'))} | {_cell(q.get('lead'))} "
            f"| {rank} | {q.get('confidence', 0):.2f} |"
        )

    answered_wrong = [
        q for q in questions if q["answerable"] and q.get("abstained") is False and q.get("answer_sentence_correct") is False
    ]
    if answered_wrong:
        answered_wrong = sorted(answered_wrong, key=lambda q: -float(q.get("confidence", 0)))
        lines += [f"## Worst answers: the lead quote is not the answer ({len(answered_wrong)}; most confident first)", ""]
        lines += header + [row(q) for q in answered_wrong[:limit]]
        if len(answered_wrong) > limit:
            lines.append(f"\n({len(answered_wrong) - limit} more in results.json)")
        lines.append("")
    misses = [q for q in questions if q["answerable"] and not q["rank"]]
    if misses:
        lines += [f"## Misses: no supporting passage in the top k ({len(misses)})", ""]
        lines += header + [row(q) for q in misses[:limit]]
        lines.append("")
    declined = [q for q in questions if q["answerable"] and q.get("abstained")]
    if declined:
        lines += [f"## Declined although answerable ({len(declined)})", ""]
        lines += header + [row(q) for q in sorted(declined, key=lambda q: float(q.get("confidence", 0)))[:limit]]
        lines.append("")
    confident = [q for q in questions if not q["answerable"] and q.get("abstained") is False]
    if confident:
        confident = sorted(confident, key=lambda q: -float(q.get("confidence", 0)))
        lines += [f"## Unanswerable questions that were answered ({len(confident)}; most confident first)", ""]
        lines += ["| id | question | lead quote given | confidence |", "|---|---|---|---|"]
        lines += [f"| {_cell(q['id'], 40)} | {_cell(q['question'])} | {_cell(q.get('lead'))} | {q.get('confidence', 0):.2f} |" for q in confident[:limit]]
        lines.append("")
    return lines
