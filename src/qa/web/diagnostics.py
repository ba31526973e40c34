"""The staff diagnostics: the decision, its signals and each passage's scores, in French.

Scores read with a decimal comma (:func:`french_number`, also used by the CSV export); text is
escaped with :func:`qa.web.render.esc`.
"""

from __future__ import annotations

import json

from qa.web.render import esc, status_label


def render_diagnostics(report: dict) -> str:
    """Staff view of ``Answer.to_dict(diagnostics=True)``: decision, each passage's scores, JSON."""
    decision = report.get("decision") or {}
    rows = "".join(
        f"<tr><td>{p['rank']}</td><td>{esc(p['section'])}</td>"
        f"<td>{french_number(p['scores']['dense'])}</td><td>{french_number(p['scores']['lexical'])}</td>"
        f"<td>{french_number(p['scores']['fused'])}</td><td>{esc(p['highlight'])}</td></tr>"
        for p in report.get("passages", [])
    )
    facts = "".join(
        f"<dt>{esc(label)}</dt><dd>{esc(_fmt(decision.get(key)))}</dd>"
        for key, label in (
            ("answerable", "Répondable"),
            ("reason", "Raison"),
            ("confidence", "Probabilité que le passage réponde"),
            ("threshold", "Seuil de non-réponse"),
            ("coverage", "Couverture"),
            ("dense", "Score dense"),
        )
    )
    if signals := decision.get("signals"):
        shares = decision.get("contributions") or {}
        listed = ", ".join(
            f"{name} {french_number(value, 3)}"
            + (f" ({french_number(shares[name], 2, signed=True)})" if name in shares else "")
            for name, value in signals.items()
        )
        facts += f"<dt>Signaux (valeur, part du logit)</dt><dd>{esc(listed)}</dd>"
    if earlier := (report.get("context") or {}).get("from"):
        facts = f"<dt>Lue à la suite de</dt><dd>{esc(earlier)}</dd>" + facts
    raw = esc(json.dumps(report, ensure_ascii=False, indent=2)).replace("<br>", "\n")
    status = status_label(str(report.get("status", "")))
    return (
        f'<div class="qa-diagnostics"><p>Statut : <strong>{esc(status)}</strong>'
        f' — {esc(report.get("message", ""))}</p><dl class="qa-decision">{facts}</dl>'
        '<div class="qa-scroll" role="region" tabindex="0" aria-label="Passages les mieux classés">'
        '<table class="qa-scores"><caption>Passages les mieux classés</caption>'
        '<thead><tr><th scope="col">Rang</th><th scope="col">Section</th><th scope="col">Dense</th>'
        '<th scope="col">Lexical</th><th scope="col">Fusionné</th>'
        '<th scope="col">Phrase retenue</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
        '<details class="qa-raw"><summary>Réponse complète (JSON, avec diagnostics)</summary>'
        f"<pre>{raw}</pre></details></div>"
    )


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return french_number(value)
    return "—" if value is None else str(value)


def french_number(value: float, places: int = 4, signed: bool = False) -> str:
    """A score as the staff read it: decimal comma, ``places`` decimals (``0,9100``, ``+1,25``)."""
    return f"{value:{'+' if signed else ''}.{places}f}".replace(".", ",")
