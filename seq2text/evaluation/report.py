"""Evaluation reports: ``report.md`` (figures beside it), a self-contained ``report.html``
(figures embedded as data URIs, no scripts, no external files), ``metrics.json`` and the
evaluation's text files (the scored outputs)."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from seq2text.atomic import write_text_atomic
from seq2text.evaluation.sections import Evaluation, Section

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif;
        max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
.table { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; display: block; margin: 0.5rem 0; }
code { font-size: 0.85em; background: #f6f6f6; }
"""


def write_report(folder: Path, evaluation: Evaluation) -> None:
    """Write the three files into ``folder`` (which already holds the figures)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "metrics.json", json.dumps(evaluation.summary, ensure_ascii=False, indent=1) + "\n")
    write_text_atomic(folder / "report.md", markdown(evaluation, folder))
    write_text_atomic(folder / "report.html", to_html(evaluation))
    for name, text in evaluation.files.items():
        write_text_atomic(folder / name, text)


def markdown(evaluation: Evaluation, folder: Path) -> str:
    parts = [f"# {evaluation.title}\n"]
    for section in evaluation.sections:
        parts.append(f"## {section.title}\n")
        if section.text:
            parts.append(section.text + "\n")
        if section.header:
            parts.append(_markdown_table(section))
        parts += [f"![{figure.stem}]({figure.relative_to(folder)})\n" for figure in section.figures]
        parts += [f"- {caption}: {_marked(tokens, weights)}\n" for caption, tokens, weights in section.shaded]
    return "\n".join(parts)


def _marked(tokens: list[str], weights: list[float], top: int = 3) -> str:
    """The text with its ``top`` most weighted tokens in bold (Markdown has no shading).  The
    bold is an HTML ``<b>``: Markdown's ``**`` does not open or close between a bracket and a
    Chinese character (``(1**)**内``)."""
    chosen = set(sorted(range(len(tokens)), key=lambda i: -weights[i])[:top])
    return "".join(f"<b>{_markdown_text(t)}</b>" if i in chosen else _markdown_text(t) for i, t in enumerate(tokens))


def _markdown_text(text: str) -> str:
    """``text`` with Markdown's and HTML's special characters escaped."""
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", html.escape(text, quote=False))


def _markdown_table(section: Section) -> str:
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(cell(h) for h in section.header) + " |",
             "|" + "---|" * len(section.header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in section.rows]
    return "\n".join(lines) + "\n"


def to_html(evaluation: Evaluation) -> str:
    body = [f"<h1>{html.escape(evaluation.title)}</h1>"]
    for section in evaluation.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.text:
            body.append(f"<p>{_inline(section.text)}</p>")
        if section.header:
            body.append(_html_table(section))
        for figure in section.figures:
            data = base64.b64encode(figure.read_bytes()).decode("ascii")
            body.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(figure.stem)}">')
        body += [_shaded(caption, tokens, weights) for caption, tokens, weights in section.shaded]
    return (f"<!DOCTYPE html>\n<html lang=\"{evaluation.language}\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(evaluation.title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _shaded(caption: str, tokens: list[str], weights: list[float]) -> str:
    """A paragraph whose tokens are shaded by their weight (the largest: full colour), each
    weight in its tooltip."""
    top = max(weights, default=0.0) or 1.0
    # white on the darker shades: black on a full red is hard to read
    spans = "".join(f'<span class="w" style="background: rgba(214, 39, 40, {w / top:.2f})'
                    f'{"; color: #fff" if w / top > 0.5 else ""}" title="{w:.3f}">'
                    f"{html.escape(t)}</span>" for t, w in zip(tokens, weights))
    return f'<p class="shaded"><b>{html.escape(caption)}</b> {spans}</p>'


def _inline(text: str) -> str:
    """Escaped text with `code` spans."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def _html_table(section: Section) -> str:
    def cell(value, tag: str) -> str:
        return f"<{tag}>{html.escape(str(value)).replace(chr(10), '<br>')}</{tag}>"

    head = "<tr>" + "".join(cell(h, "th") for h in section.header) + "</tr>"
    rows = "".join("<tr>" + "".join(cell(v, "td") for v in row) + "</tr>" for row in section.rows)
    return f"<div class=\"table\"><table>{head}{rows}</table></div>"  # a wide table scrolls in its box
