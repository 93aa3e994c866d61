#!/usr/bin/env python3
"""Every figure of the README's results tables, from the bundled models, in one go.

    python scripts/results.py [--out reports] [--poems 200] [--no-speed]

For each bundled model it runs ``seq2text evaluate`` (the recipe's held-out data) and writes
its report to ``OUT/<model>/`` (``report.html``, ``report.md``, ``metrics.json``, plots).
Translation models also get decoding speed (``scripts/bench_decode.py``'s measurement, fp32
and bf16).  The tables are printed and written to ``OUT/results.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_decode import measure  # noqa: E402
from seq2text.atomic import write_text_atomic  # noqa: E402
from seq2text.evaluation import evaluate  # noqa: E402
from seq2text.evaluation.pairs import held_out_pairs  # noqa: E402
from seq2text.evaluation.report import write_report  # noqa: E402
from seq2text.model_folder import bundled_models  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402
from seq2text.translator import Translator  # noqa: E402


def speeds(model: str) -> dict:
    """Sentences per second, greedy and beam 5, fp32 and bf16, on the held-out sources."""
    loaded = load_pretrained(model)
    sources, references, _ = held_out_pairs(loaded)
    figures = {}
    for precision in ("fp32", "bf16"):
        translator = Translator.load(loaded, precision=precision)
        for name, beam in (("greedy", 1), ("beam5", 5)):
            figures[f"{precision}_{name}_sent_per_s"] = round(measure(translator, sources, references, beam, 64,
                                                                      None)[0], 1)
    return figures


def tables(summaries: dict[str, dict]) -> str:
    rows = {"translation": ["| model | data | greedy BLEU | beam 5 BLEU | chrF | TER | sent/s greedy / beam 5 "
                            "(fp32; bf16) |", "|---|---|---|---|---|---|---|"],
            "couplet": ["| model | data | greedy char BLEU | beam 5 char BLEU | length | punctuation | no copy | "
                        "mirrored | level ending | opposed tones | 平仄相对 at rhythm points | most common "
                        "4-char ending |", "|---|---|---|---|---|---|---|---|---|---|---|---|"],
            "lm": ["| model | data | tokens | perplexity | bits/char |", "|---|---|---|---|---|"],
            "verse": ["| model | form | form | acrostic | rhyme | 平仄 | no char 3× | lines copied | poems/s |",
                      "|---|---|---|---|---|---|---|---|---|"],
            "classification": ["| model | data | texts | accuracy | macro-F1 | texts/s |", "|---|---|---|---|---|---|"],
            "tagging": ["| model | split | sentences | words | accuracy | unknown words | unknown-word accuracy | "
                        "macro-F1 |", "|---|---|---|---|---|---|---|---|"],
            "titles": ["| model | held-out poems | perplexity untitled | perplexity titled |", "|---|---|---|---|"],
            "subjects": ["| model | setting | on subject | rules kept | distinct lines | most common line | "
                         "lines copied | doubled lines | rhyme log-prob | forced rhymes |",
                         "|---|---|---|---|---|---|---|---|---|---|"],
            "ci": ["| model | tune | ci | form | 平仄 positions | rhyme positions | rules kept | on subject | "
                   "distinct lines | lines copied | rhyme log-prob | forced rhymes |",
                   "|---|---|---|---|---|---|---|---|---|---|---|---|"]}
    for name, s in summaries.items():
        if s["task"] == "translation":
            speed = s.get("speed", {})
            rows["translation"].append(
                f"| {name} | {s['data']} | {s['greedy']['bleu']:.2f} | {s['beam5']['bleu']:.2f} | "
                f"{s['beam5']['chrf']:.2f} | {s['beam5']['ter']:.2f} | "
                f"{speed.get('fp32_greedy_sent_per_s', '')} / {speed.get('fp32_beam5_sent_per_s', '')}; "
                f"{speed.get('bf16_greedy_sent_per_s', '')} / {speed.get('bf16_beam5_sent_per_s', '')} |")
        elif s["task"] == "classification":
            rows["classification"].append(f"| {name} | {s['data']} | {s['examples']} | {s['accuracy']:.2f}% | "
                                          f"{s['macro_f1']:.2f}% | {s['texts_per_s']} |")
        elif s["task"] == "tagging":
            for split in ("test", "dev", "file"):
                if split in s:
                    r = s[split]
                    rows["tagging"].append(f"| {name} | {split} | {r['sentences']} | {r['words']} | "
                                           f"{r['accuracy']:.2f}% | {r['unknown_words']} | "
                                           f"{r['unknown_accuracy']}% | {r['macro_f1']:.2f}% |")
        elif s["task"] == "couplet":
            rules = s["rules"]
            rows["couplet"].append(f"| {name} | {s['data']} | {s['greedy']['bleu']:.2f} | {s['beam5']['bleu']:.2f} | "
                                   + " | ".join(f"{rules[r]}%" for r in ("length", "punctuation", "no_copy",
                                                                          "mirrored", "level_ending", "opposed_tones"))
                                   + f" | {s['tone_points']}% | {s['top_ending_share']}% |")
        else:
            rows["lm"].append(f"| {name} | {s['data']} | {s['tokens']} | {s['ppl']:.2f} | "
                              f"{s.get('bits_per_char', '')} |")
            for form, r in s.get("verse", {}).items():
                rows["verse"].append(f"| {name} | {form} | " + " | ".join(
                    f"{r[k]}%" for k in ("form", "acrostic", "rhyme", "tones", "repetition", "copied_lines"))
                    + f" | {r['poems_per_s']} |")
            subjects = s.get("subjects", {})
            for corpus, r in subjects.get("perplexity", {}).items():
                rows["titles"].append(f"| {name} | {corpus}: {r['poems']} | {r['untitled']} | {r.get('titled', '')} |")
            for mode, r in subjects.get("poems", {}).items():
                rows["subjects"].append(f"| {name} | {mode} | {r['on_subject']}% | {r['rules_kept']}% | "
                                        f"{r['distinct_lines']}% | {r['most_common_share']}% | {r['copied_lines']}% | "
                                        f"{r['doubled_lines']}% | {r['rhyme_log_prob']} | {r['forced_rhymes']}% |")
            ci = s.get("ci", {})
            for tune, r in [*ci.get("tunes", {}).items(), *([("all", ci["all"])] if ci else [])]:
                rows["ci"].append(f"| {name} | {tune} | {r['ci']} | " + " | ".join(
                    f"{r[k]}%" for k in ("form", "tone_positions", "rhyme_positions", "rules_kept", "on_subject",
                                          "distinct_lines", "copied_lines")) + f" | {r['rhyme_log_prob']} | "
                    f"{r['forced_rhymes']}% |")
            if ci:
                h = ci["human"]
                rows["ci"].append(f"| held-out human ci | {h['tunes']} tunes | {h['ci']} | | | | | | | | "
                                  f"{h['rhyme_log_prob']} | {h['forced_rhymes']}% |")
    return "\n\n".join("\n".join(table) for table in rows.values() if len(table) > 2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder [reports]")
    parser.add_argument("--poems", type=int, default=200, help="poems per form for the verse rates [200]")
    parser.add_argument("--no-speed", action="store_true", help="skip the decoding-speed runs")
    args = parser.parse_args()
    summaries = {}
    for card in bundled_models():
        name = card["name"]
        print(f"# {name} ...", file=sys.stderr, flush=True)
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        evaluation = evaluate(name, poems=args.poems, figures=folder)
        if card["task"] == "translation" and not args.no_speed:
            evaluation.summary["speed"] = speeds(name)
        write_report(folder, evaluation)
        summaries[name] = evaluation.summary
        print(json.dumps(evaluation.summary, ensure_ascii=False), flush=True)
    text = tables(summaries)
    write_text_atomic(args.out / "results.md", text)
    print(text)


if __name__ == "__main__":
    main()
