"""A single self-contained HTML report: inline SVG bar charts with error bars, per-subset and
per-duration breakdowns, and a per-sample table with frame thumbnails. No scripts, no CDN;
every piece of model output is HTML-escaped."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from ..records import iter_records
from ..results import load_results

MAX_ROWS = 200  # per task in the sample table: the page stays small enough to open anywhere


def bar_chart(title: str, bars: list[tuple[str, float | None, list[float] | None]], scale: float = 100.0) -> str:
    """Horizontal bars (value in [0, scale]) with CI whiskers, as inline SVG."""
    row_h, left, width = 22, 190, 360
    h = 30 + row_h * len(bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{h}" role="img">',
             f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value, ci) in enumerate(bars):
        y = 26 + i * row_h
        parts.append(f'<text x="4" y="{y + 14}" font-size="12">{html.escape(label[:28])}</text>')
        if value is None:
            parts.append(f'<text x="{left}" y="{y + 14}" font-size="12" fill="#888">n/a</text>')
            continue
        w = max(0.0, min(1.0, value / scale)) * width
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="14" fill="#4a7bd0"/>')
        if ci:
            x0, x1 = (left + max(0, min(1, c / scale)) * width for c in ci)
            parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y + 10}" y2="{y + 10}" stroke="#111" stroke-width="1.5"/>')
        parts.append(f'<text x="{left + width + 6}" y="{y + 14}" font-size="12">{value:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _acc_bars(groups: dict[str, Any]) -> list[tuple[str, float | None, list[float] | None]]:
    out = []
    for name, m in groups.items():
        acc, ci = m.get("accuracy"), m.get("accuracy_ci")
        out.append((f"{name} (n={m.get('n')})", None if acc is None else 100 * acc, [100 * c for c in ci] if ci else None))
    return out


def thumbnails(rec: dict[str, Any], size: int = 56) -> str:
    """The sample's recorded frames (first, middle, last), re-decoded if the video is reachable."""
    media, frames = rec.get("media"), rec.get("frames") or {}
    if not media or not frames.get("indices") or not Path(media["path"]).exists():
        return '<span class="dim">no frames</span>'
    try:
        from PIL import Image

        from .. import video
        from ..types import FramePolicy, MediaRef

        got = video.read_frames(MediaRef(**media), FramePolicy.parse(frames["policy"]))
        picks = sorted({0, len(got.indices) // 2, len(got.indices) - 1})
        imgs = []
        for i in picks:
            img = Image.fromarray(got.array[i])
            img.thumbnail((size, size))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=70)
            imgs.append(f'<img alt="frame {got.indices[i]}" src="data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()}">')
        return "".join(imgs)
    except Exception as e:  # noqa: BLE001 - a report must render even when a video went away or broke
        return f'<span class="dim">frames unavailable: {html.escape(type(e).__name__)}</span>'


def sample_table(run: Path, entry: dict[str, Any]) -> str:
    rows = []
    for i, rec in enumerate(iter_records(run / entry["samples_file"])):
        if i >= MAX_ROWS:
            rows.append(f'<tr><td colspan="7" class="dim">… first {MAX_ROWS} samples shown; all are in {html.escape(entry["samples_file"])}</td></tr>')
            break
        verdict = rec.get("judge")
        cells = [rec.get("id"), None, rec.get("prediction"), rec.get("parsed"), rec.get("target"),
                 rec.get("state"), rec.get("error") or (verdict if verdict else "")]
        tds = "".join(f"<td>{html.escape(str(c if c is not None else ''))}</td>" if j != 1 else f"<td>{thumbnails(rec)}</td>"
                      for j, c in enumerate(cells))
        rows.append(f'<tr class="{html.escape(str(rec.get("state")))}">{tds}</tr>')
    head = "".join(f"<th>{h}</th>" for h in ("id", "frames", "prediction", "parsed", "target", "state", "error / judge"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(run_dirs: list[Path], board_markdown: str) -> str:
    """The page: the leaderboard (`board_markdown`, as `harness report` renders it), then per run its
    charts, breakdowns and samples."""
    sections = []
    for run in run_dirs:
        res = load_results(run)
        head = [f"<h2>{html.escape(res['model']['name'])} — {html.escape(run.name)}</h2>",
                (f"<p class=dim>fingerprint {html.escape(str(res['model'].get('fingerprint')))}, "
                 f"created {html.escape(str(res.get('created')))}, "
                 f"commit {html.escape(str(res['harness'].get('git_commit')))}</p>")]
        overall = []
        for name, t in res["tasks"].items():
            m = t.get("metrics") or {}
            acc, ci = m.get("accuracy"), m.get("accuracy_ci")
            overall.append((name, None if acc is None else 100 * acc, [100 * c for c in ci] if ci else None))
        head.append(bar_chart("Accuracy per benchmark (95% CI)", overall))
        for name, t in res["tasks"].items():
            m = t.get("metrics") or {}
            counts = ", ".join(f"{k[2:]} {t.get(k)}" for k in ("n_samples", "n_scored", "n_unparsed", "n_errors", "n_unscored"))
            head.append(f"<h3>{html.escape(name)}</h3><p class=dim>{html.escape(counts)}; frames {html.escape(str(t.get('frames')))}</p>")
            devs = t.get("deviations") or []
            head.append(f"<p class=dim>protocol {html.escape(str(t.get('protocol')))}"
                        + (": deviations: " + "; ".join(html.escape(d) for d in devs) if devs else ", no deviations") + "</p>")
            for key, groups in m.items():
                if key.startswith("by_") and isinstance(groups, dict) and groups:
                    head.append(bar_chart(f"{name}: accuracy {key.replace('_', ' ')}", _acc_bars(groups)))
            head.append(sample_table(run, t))
        sections.append("\n".join(head))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top;max-width:320px;overflow-wrap:anywhere}"
             ".dim{color:#777}.error td{background:#fee}.unparsed td{background:#ffd}.unscored td{background:#eef}")
    board_html = f"<pre>{html.escape(board_markdown)}</pre>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>harness report</title><style>{style}</style>"
            f"</head><body><h1>Evaluation report</h1>{board_html}{''.join(sections)}</body></html>\n")
