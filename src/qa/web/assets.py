"""The page's own CSS and scripts, served inline: no CDN, no web font, nothing fetched elsewhere."""

from __future__ import annotations

from qa.web.render import esc

SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans",
                "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif")
SYSTEM_MONO_FONTS = ("ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "Consolas", "monospace")

# Runs before Gradio's front end: it picks its interface language (and sets <html lang>) from
# navigator.language, so make that French whatever the browser says.
FRENCH_HEAD_SCRIPT = """<script>(function(){try{
Object.defineProperty(navigator,"language",{get:function(){return "fr-FR";},configurable:true});
Object.defineProperty(navigator,"languages",
{get:function(){return ["fr-FR","fr"];},configurable:true});
}catch(e){}document.documentElement.lang="fr";})();</script>"""


def head_html(title: str) -> str:
    """Return what :class:`qa.web.middleware.FrenchPage` inserts after ``<head>``."""
    return (f'{FRENCH_HEAD_SCRIPT}<title>{esc(title)}</title>'
            '<meta name="description" content="Questions et réponses citées sur un article.">')


# Clicking a citation ([1], "Voir dans l'article") opens the article tab, highlights the passage
# and its key sentence, scrolls to them and moves the focus there (keyboard users follow along).
CITATION_SCRIPT = r"""
() => {
  if (window.__qaCitations) return;
  window.__qaCitations = true;
  const ANCHOR = /#p-(.+?)-(\d+)-(\d+)(?:-h-(\d+)-(\d+))?$/;
  const roots = () => {
    const app = document.querySelector("gradio-app");
    return app && app.shadowRoot ? [app.shadowRoot, document] : [document];
  };
  const find = (selector) => {
    for (const root of roots()) {
      const found = root.querySelector(selector);
      if (found) return found;
    }
    return null;
  };
  const visible = (el) => el && el.getClientRects().length > 0;
  const highlight = (article, start, end, hs, he) => {
    const container = find(`.qa-article[data-article="${CSS.escape(article)}"]`);
    if (!visible(container)) return false;
    container.querySelectorAll(".qa-hit, .qa-hit-key, .qa-hit-section").forEach((el) =>
      el.classList.remove("qa-hit", "qa-hit-key", "qa-hit-section"));
    let section = null, key = null, first = null;
    container.querySelectorAll("[data-start]").forEach((el) => {
      const a = Number(el.dataset.start), b = Number(el.dataset.end);
      if (el.tagName === "SECTION") {
        if (a <= start && end <= b) section = el;
        return;
      }
      if (a < end && b > start) { el.classList.add("qa-hit"); first = first || el; }
      if (hs !== null && a < he && b > hs) { el.classList.add("qa-hit-key"); key = key || el; }
    });
    if (section) section.classList.add("qa-hit-section");
    const target = key || first || section;
    if (!target) return true;
    target.scrollIntoView({block: "center"});
    (section || container).focus({preventScroll: true});
    return true;
  };
  const show = (match) => {
    const [, article, start, end, hs, he] = match;
    const tab = find("#qa-tab-article-button");
    if (tab) tab.click();
    let tries = 0;
    const attempt = () => {
      const number = (value) => (value === undefined ? null : Number(value));
      const ok = highlight(article, Number(start), Number(end), number(hs), number(he));
      if (!ok && tries++ < 100) setTimeout(attempt, 50);
    };
    setTimeout(attempt, 0);
  };
  // Gradio copies each message's HTML source into an aria-label; let screen readers read the text.
  const unlabel = () => {
    for (const root of roots()) {
      root.querySelectorAll('[aria-label*="<"]').forEach((el) => el.removeAttribute("aria-label"));
    }
  };
  // A new reply: scroll the chat so that its question and key sentence show, not its last line.
  let latest = null;
  const scrollToLatest = () => {
    const answers = [], questions = [];
    for (const root of roots()) {
      answers.push(...root.querySelectorAll(".qa-answer"));
      questions.push(...root.querySelectorAll(".qa-user"));
    }
    const last = answers[answers.length - 1];
    if (!last || last === latest) return;
    latest = last;
    const asked = questions[questions.length - 1];
    const target = (asked && (asked.closest('[class*="message-row"]') || asked)) || last;
    let box = last.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight &&
                    /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
    if (!box) return;
    box.scrollTop += target.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;
  };
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; unlabel(); scrollToLatest(); });
  }).observe(document.body, {subtree: true, childList: true});
  document.addEventListener("click", (event) => {
    const link = event.composedPath().find((el) => el.tagName === "A" && el.getAttribute("href"));
    if (!link) return;
    const match = ANCHOR.exec(link.getAttribute("href"));
    if (!match) return;
    event.preventDefault();
    event.stopPropagation();
    show(match);
  }, true);
}
"""

CSS = """
.qa-header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.qa-tagline { margin: 0; color: var(--body-text-color); }
.qa-feedback-off { border: 2px solid #b45309; background: #fffbeb; color: #78350f;
  padding: .5rem .75rem; border-radius: .375rem; }
.qa-answer p, .qa-user { display: block; margin: .25rem 0; }
.qa-answer blockquote.qa-key { margin: .25rem 0 .75rem; padding: .5rem .75rem;
  border-left: 4px solid #1d4ed8; background: #eff6ff; color: #111827; font-size: 1.05em; }
.qa-answer ol.qa-passages { padding-left: 0; list-style: none; margin: 0; }
.qa-answer li.qa-passage { border: 1px solid #d4d4d8; border-radius: .375rem; padding: .5rem .75rem;
  margin: .5rem 0; background: #ffffff; color: #111827; }
.qa-answer .qa-cited-title { margin: .5rem 0 0; font-weight: 600; }
.qa-answer .qa-source { color: #3f3f46; font-size: .9em; margin: .25rem 0 0; }
.qa-answer mark, .qa-article .qa-hit-key { background: #fde68a; color: #111827;
  padding: 0 .1em; border-radius: .15em; }
a.qa-cite { color: #1d4ed8; text-decoration: underline; font-weight: 600; }
a.qa-cite:focus-visible, .qa-article .qa-section:focus-visible { outline: 3px solid #1d4ed8;
  outline-offset: 2px; }
.qa-article { max-width: 60rem; line-height: 1.6; color: var(--body-text-color); }
.qa-article .qa-section { padding: .25rem .75rem; border-radius: .375rem;
  border-left: 4px solid transparent; }
.qa-article .qa-hit-section { border-left-color: #1d4ed8; background: #eff6ff; color: #111827; }
.qa-article .qa-hit { background: #dbeafe; color: #111827; }
.qa-article .qa-hit-key { background: #fde68a; outline: 2px solid #b45309; }
.qa-article .qa-byline { list-style: none; padding: 0; color: var(--body-text-color-subdued); }
.qa-diagnostics table { border-collapse: collapse; width: 100%; }
.qa-diagnostics th, .qa-diagnostics td { border: 1px solid #d4d4d8; padding: .25rem .5rem;
  text-align: left; vertical-align: top; }
.qa-diagnostics dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
.qa-diagnostics dt { font-weight: 600; }
.qa-diagnostics dd { margin: 0; }
"""
