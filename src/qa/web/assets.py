"""The page's own CSS and scripts, served inline: no CDN, no web font, nothing fetched elsewhere.

Longer than 250 lines on purpose: it is data (the page's CSS and script, inline), not logic.
"""

from __future__ import annotations

from qa.web.render import esc

SYSTEM_FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "Liberation Sans",
    "DejaVu Sans",
    "Arial",
    "sans-serif",
)
SYSTEM_MONO_FONTS = ("ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "Consolas", "monospace")

# Runs before Gradio's front end: it picks its interface language (and sets <html lang>) from
# navigator.language, so make that French whatever the browser says. It also marks the app's own
# page (``__qaOwnPage``: a web component on a host page never runs it) and a framed page.
FRENCH_HEAD_SCRIPT = """<script>(function(){try{
Object.defineProperty(navigator,"language",{get:function(){return "fr-FR";},configurable:true});
Object.defineProperty(navigator,"languages",
{get:function(){return ["fr-FR","fr"];},configurable:true});
}catch(e){}document.documentElement.lang="fr";window.__qaOwnPage=true;
if(window.top!==window.self){document.documentElement.classList.add("qa-framed");}})();</script>"""


# Rules on the page itself (outside Gradio's ``.contain``): Gradio rewrites every selector of its
# ``css`` inside a media query to sit under ``.contain``, so these go in the page's <head>.
PAGE_CSS = """
html.qa-framed .gradio-container { min-height: 0 !important; }
html.qa-framed #qa-chat { max-height: 34rem !important; }
html.qa-framed .qa-article { max-height: 34rem; overflow-y: auto; }
@media (max-width: 640px) {
  .gradio-container .main.app { padding: .5rem .5rem 1rem !important; }
  html:not(.qa-framed) #qa-chat { max-height: calc(100dvh - 9.5rem) !important; }
  html.qa-framed #qa-chat { max-height: 30rem !important; }
  html.qa-framed .qa-article { max-height: 30rem; }
}
@media print {
  html, body, gradio-app, .gradio-container, .gradio-container * { background: transparent !important;
    color: #000 !important; box-shadow: none !important; }
  .gradio-container mark { background: #fde68a !important; }
  footer { display: none !important; }
}
"""


def head_html(title: str) -> str:
    """Return what :class:`qa.web.french_page.FrenchPage` inserts after ``<head>``."""
    return (
        f"{FRENCH_HEAD_SCRIPT}<style>{PAGE_CSS}</style><title>{esc(title)}</title>"
        '<meta name="description" content="Questions et réponses citées sur un article.">'
    )


# The public page's script (Gradio's ``js``; it runs once, in the app's page or, for a web
# component, in the host page):
# - a click on a citation opens the article tab, highlights the passage and its key sentence,
#   scrolls to them and moves the focus there; « Retour à la conversation » brings it back;
# - embedded (a frame or a web component), it never scrolls the host page: only the app's own
#   scroll boxes (the chat, the article) move, and focus() never scrolls (``preventScroll``);
# - a reply's citation links are one Tab stop, the arrow keys move between them;
# - a new question scrolls the chat (and, on the app's own page on a phone, the page) to it;
# - Gradio's English screen-reader labels become French, 👍 comes before 👎;
# - a refused question (rate limit) or a failed one: Gradio's English toast is replaced by its
#   French message in the status line under the chat;
# - the question box takes the focus only on the app's own, unframed page (never on a host page);
# - framed, the page tells its parent its height (``{"qa": "height", "height": px}``).
CITATION_SCRIPT = r"""
() => {
  if (window.__qaCitations) return;
  window.__qaCitations = true;
  const ANCHOR = /#p-(.+?)-(\d+)-(\d+)(?:-h-(\d+)-(\d+))?$/;
  const FRENCH = {"chatbot conversation": "Conversation", "Scroll down": "Défiler vers le bas",
    "More tabs": "Autres onglets", "Liked": "Aimé", "Disliked": "Pas aimé",
    "Gradio footer navigation": "Pied de page", "Close": "Fermer"};
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
  const findAll = (selector) => roots().flatMap((root) => [...root.querySelectorAll(selector)]);
  const visible = (el) => el && el.getClientRects().length > 0;
  // The app's own document (its page, or the document inside a frame) may scroll its window: a
  // frame's window is not the host page's. A web component's window IS the host page's: never.
  const ownWindow = () => Boolean(window.__qaOwnPage);
  const app = document.querySelector("gradio-app");
  if (app && !ownWindow()) app.classList.add("qa-embedded");  // the article scrolls in its box
  // The nearest box that scrolls, inside the app (never the host page nor one of its elements).
  const scrollBox = (el) => {
    for (let box = el.parentElement; box; box = box.parentElement) {
      if (box === document.body || box === document.documentElement || box.tagName === "GRADIO-APP") {
        return null;
      }
      if (/auto|scroll/.test(getComputedStyle(box).overflowY) && box.scrollHeight > box.clientHeight + 1) {
        return box;
      }
    }
    return null;
  };
  // Bring ``el`` into view, centred (``center``) or near the top (``top``): by setting scrollTop
  // on its scroll box, then, on the app's own document only, by scrolling the window. Not
  // scrollIntoView: it scrolls every scrollable ancestor, up to the host page.
  const reveal = (el, where) => {
    const offset = (rect, top, height) =>
      where === "center" ? rect.top - top - (height - rect.height) / 2 : rect.top - top - 40;
    const box = scrollBox(el);
    if (box) {
      const b = box.getBoundingClientRect();
      box.scrollTop += offset(el.getBoundingClientRect(), b.top, b.height);
    }
    if (!ownWindow()) return;
    const rect = el.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > innerHeight) window.scrollBy(0, offset(rect, 0, innerHeight));
  };
  let cameFrom = null;  // the citation link that opened the article
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
    reveal(target, "center");
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
  const backToChat = () => {
    const tab = find("#qa-tab-chat-button");
    if (tab) tab.click();
    let tries = 0;
    const attempt = () => {
      const box = find("#qa-question textarea");
      const target = cameFrom && cameFrom.isConnected ? cameFrom : box;
      if (visible(target)) {
        target.focus({preventScroll: true});
        reveal(target, "center");
      } else if (tries++ < 100) setTimeout(attempt, 50);
    };
    setTimeout(attempt, 0);
  };
  // Gradio copies each message's HTML source into an aria-label; let screen readers read the text.
  const relabel = () => {
    const status = find("#qa-vote-status");  // votes are confirmed there: read it out
    if (status && !status.hasAttribute("aria-live")) status.setAttribute("aria-live", "polite");
    for (const el of findAll("[aria-label], [title]")) {
      const label = el.getAttribute("aria-label");
      if (label && label.includes("<")) el.removeAttribute("aria-label");
      else if (label && FRENCH[label]) el.setAttribute("aria-label", FRENCH[label]);
      const title = el.getAttribute("title");
      if (title && FRENCH[title]) el.setAttribute("title", FRENCH[title]);
    }
  };
  // Gradio puts 👎 before 👍: swap them (the thumbs up first, in reading and Tab order).
  const thumbsUpFirst = () => {
    for (const down of findAll('.message-buttons button[aria-label="Je n\'aime pas"],' +
                               '.message-buttons button[aria-label="Pas aimé"]')) {
      const up = down.parentElement && [...down.parentElement.children].find((el) =>
        el.tagName === "BUTTON" && /^(J'aime|Aimé)$/.test(el.getAttribute("aria-label") || ""));
      if (up && down.compareDocumentPosition(up) & Node.DOCUMENT_POSITION_FOLLOWING) {
        down.before(up);
      }
    }
  };
  // A new question, then its answer: scroll the chat so that the question and the answer's key
  // sentence show, not the answer's last line.
  let latest = null;
  const scrollToLatest = () => {
    const replies = findAll(".qa-answer, .qa-pending"), questions = findAll(".qa-user");
    const last = replies[replies.length - 1];
    if (!last || last === latest) return;
    latest = last;
    clearAlert();  // a new reply: an earlier refusal is no longer news
    const asked = questions[questions.length - 1];
    const target = (asked && (asked.closest('[class*="message-row"]') || asked)) || last;
    const box = scrollBox(last);
    if (box) box.scrollTop += target.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;
    if (!ownWindow()) return;  // a web component: the host page never moves
    // On a phone the chat fills the screen: bring the question to its top (elsewhere, only when
    // the question is off screen or low).
    const top = target.getBoundingClientRect().top;
    if (top < 0 || top > innerHeight / 2 || (innerWidth <= 640 && top > 16)) {
      window.scrollBy(0, top - 8);
    }
  };
  // Gradio shows a refused or failed event as an English toast (« Error ») and « Erreur » badges
  // (the CSS hides both). Its message goes to the status line under the chat instead, read out
  // as an alert: the server's refusals are French; Gradio's own English ones are translated.
  const GRADIO_ERRORS = {
    "Connection errored out.": "La connexion au serveur a été perdue : réessayez.",
    "An Unexpected Error Occurred!": "Une erreur inattendue s'est produite : réessayez.",
    "Error": "La question n'a pas pu être traitée : réessayez.",
  };
  const clearAlert = () => findAll("[data-qa-alert]").forEach((el) => el.remove());
  const relayErrors = () => {
    for (const toast of findAll(".toast-body")) {
      if (toast.dataset.qaSeen) continue;
      toast.dataset.qaSeen = "1";
      const body = toast.querySelector('[data-testid="toast-text"], .toast-message-text');
      const text = (body ? body.textContent : "").trim();
      const message = GRADIO_ERRORS[text] || text || GRADIO_ERRORS.Error;
      const status = find("#qa-vote-status");
      if (status) {
        clearAlert();
        const line = document.createElement("p");
        line.className = "qa-vote-status qa-alert";
        line.setAttribute("role", "alert");
        line.dataset.qaAlert = "1";
        line.textContent = message;
        status.appendChild(line);
      }
      const close = toast.querySelector(".toast-close");
      if (close) close.click(); else toast.remove();
    }
  };
  // The question box takes the focus on the app's own page only: framed or as a web component,
  // focusing it would scroll the host page.
  const focusOnce = () => {
    if (!window.__qaOwnPage || window.top !== window.self) return true;
    const box = find("#qa-question textarea");
    if (!box) return false;
    if (!document.activeElement || document.activeElement === document.body) {
      box.focus({preventScroll: true});
    }
    return true;
  };
  let focused = false;
  let lastHeight = 0;
  const tellHeight = () => {
    if (window.top === window.self || !window.__qaOwnPage) return;
    const app = find(".gradio-container") || document.body;
    const height = Math.ceil(app.getBoundingClientRect().height);
    if (height && Math.abs(height - lastHeight) > 2) {
      lastHeight = height;
      window.parent.postMessage({qa: "height", height: height}, "*");
    }
  };
  let pending = false;
  const tidy = () => {
    pending = false;
    relabel();
    relayErrors();
    thumbsUpFirst();
    scrollToLatest();
    if (!focused) focused = focusOnce();
    tellHeight();
  };
  new MutationObserver(() => {
    relabel();  // at once, before anything reads the page: Gradio's labels are English or HTML
    if (pending) return;
    pending = true;
    requestAnimationFrame(tidy);
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ["aria-label", "title"]});
  if (window.ResizeObserver) new ResizeObserver(tellHeight).observe(document.body);
  tidy();
  // The arrow keys move between a reply's citation links; only one of them is a Tab stop.
  document.addEventListener("keydown", (event) => {
    const link = event.composedPath().find((el) => el.tagName === "A" &&
                                                   el.classList && el.classList.contains("qa-cite"));
    const step = {ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1}[event.key];
    if (!link || !step) return;
    const reply = link.closest(".qa-answer");
    if (!reply) return;
    const links = [...reply.querySelectorAll(".qa-source a.qa-cite")];
    const here = Math.max(0, links.indexOf(link));
    const next = links[(here + step + links.length) % links.length];
    if (!next) return;
    event.preventDefault();
    links.forEach((el) => el.setAttribute("tabindex", el === next ? "0" : "-1"));
    next.focus({preventScroll: true});
    reveal(next, "center");
  }, true);
  // A subject of a no-answer's list asks « Que dit l'article sur … ? », as if typed and sent.
  const askAgain = (question) => {
    const box = find("#qa-question textarea");
    const send = find("#qa-send");
    if (!box || !send) return;
    box.value = question;
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => { send.click(); box.focus({preventScroll: true}); }, 0);
  };
  document.addEventListener("click", (event) => {
    const link = event.composedPath().find((el) => el.tagName === "A" && el.getAttribute("href"));
    if (!link) return;
    if (link.classList.contains("qa-back")) {
      event.preventDefault();
      backToChat();
      return;
    }
    const href = link.getAttribute("href");
    if (link.classList.contains("qa-topic") && href.startsWith("#qa-ask-")) {
      event.preventDefault();
      event.stopPropagation();
      askAgain(decodeURIComponent(href.slice("#qa-ask-".length)));
      return;
    }
    const match = ANCHOR.exec(link.getAttribute("href"));
    if (!match) return;
    event.preventDefault();
    event.stopPropagation();
    cameFrom = link;
    show(match);
  }, true);
}
"""

# Colours come from Gradio's theme variables, which follow the system's light or dark mode
# (Gradio puts ``.dark`` on the page). The few colours of the page's own (highlight, warning,
# links and focus rings) are set for both modes, each pair at least 4.5:1 (3:1 for rings).
CSS = """
:root { --qa-link: var(--primary-700); --qa-focus: var(--primary-700);
  --qa-mark-bg: #fde68a; --qa-mark-text: #111827; --qa-hit-bg: #dbeafe; --qa-hit-text: #111827;
  --qa-warn-bg: #fffbeb; --qa-warn-text: #78350f; --qa-warn-edge: #b45309; --qa-placeholder: #52525b; }
.dark { --qa-link: var(--primary-300); --qa-focus: var(--primary-300);
  --qa-mark-bg: #854d0e; --qa-mark-text: #fef9c3; --qa-hit-bg: #1e3a8a; --qa-hit-text: #f4f4f5;
  --qa-warn-bg: #451a03; --qa-warn-text: #fde68a; --qa-warn-edge: #f59e0b; --qa-placeholder: #d4d4d8; }
/* Read by screen readers only (« Vous : », « Réponse : » before each message). */
.qa-sr { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.qa-pending { margin: .25rem 0; color: var(--body-text-color); font-style: italic; }
/* The placeholder (it says Enter sends) at 4.5:1 in both themes, whole on a phone (it wraps). */
#qa-question textarea::placeholder { color: var(--qa-placeholder); opacity: 1; white-space: normal; }
/* One clear control, « Effacer la conversation » under the chat: the chat's own 🗑 is hidden. */
#qa-chat button[aria-label="Effacer la conversation"], #qa-chat button[title="Effacer la conversation"]
{ display: none !important; }
/* The page shows its own pending reply and French refusals: Gradio's trackers (« processing »,
   « Erreur » badges) and toasts (« Error ») stay hidden; the page script reads the toasts. */
#qa-tabs [data-testid="status-tracker"], #qa-header [data-testid="status-tracker"],
#qa-feedback-note [data-testid="status-tracker"], .toast-wrap { display: none !important; }
#qa-vote-status, #qa-vote-status .prose, #qa-vote-status .pending { opacity: 1 !important; }
#qa-chat .message-row:has(.qa-pending) + .message-buttons { display: none; }
/* An unknown ?article=: nothing to read, so no tabs (Gradio cannot hide a tab by an update). */
.gradio-container:has(.qa-scope-error) #qa-tabs [role="tablist"] { display: none !important; }
/* A web component: the article scrolls in its own box, not the host page. */
gradio-app.qa-embedded .qa-article { max-height: 70vh; overflow-y: auto; }
.qa-header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.qa-tagline { margin: 0; color: var(--body-text-color); }
.qa-scope-error { border: 2px solid var(--qa-warn-edge); background: var(--qa-warn-bg);
  color: var(--qa-warn-text); padding: .5rem .75rem; border-radius: .375rem; margin: .25rem 0 0; }
.qa-answer p.qa-context { font-size: .875em; color: var(--body-text-color-subdued); margin: 0 0 .25rem; }
.qa-feedback-off { border: 2px solid var(--qa-warn-edge); background: var(--qa-warn-bg);
  color: var(--qa-warn-text); padding: .5rem .75rem; border-radius: .375rem; }
#qa-chat .prose { opacity: 1; }
.qa-answer p, .qa-user { display: block; margin: .25rem 0; }
.qa-answer blockquote.qa-key { margin: .25rem 0 .75rem; padding: .5rem .75rem;
  border-left: 4px solid var(--qa-link); background: var(--color-accent-soft);
  color: var(--body-text-color); font-size: 1.05em; }
.qa-answer blockquote.qa-key p { color: var(--body-text-color); }
.qa-answer ol.qa-passages { padding-left: 0; list-style: none; margin: 0; }
.qa-answer li.qa-passage { border: 1px solid var(--border-color-primary); border-radius: .375rem;
  padding: .5rem .75rem; margin: .5rem 0; background: var(--background-fill-primary);
  color: var(--body-text-color); }
.qa-answer li.qa-passage p, .qa-answer li.qa-passage strong { color: var(--body-text-color); }
.qa-answer .qa-cited-title { margin: .5rem 0 0; font-weight: 600; }
.qa-answer p.qa-source, .qa-article .qa-source { color: var(--body-text-color-subdued);
  font-size: .9em; margin: .25rem 0 0; }
.qa-answer mark, .qa-article .qa-hit-key { background: var(--qa-mark-bg); color: var(--qa-mark-text);
  padding: 0 .1em; border-radius: .15em; }
a.qa-cite, a.qa-back, .qa-answer a.qa-cite, .qa-answer a.qa-topic { color: var(--qa-link);
  text-decoration: underline; font-weight: 600; }
.gradio-container :focus-visible, a.qa-cite:focus-visible, a.qa-back:focus-visible,
a.qa-topic:focus-visible,
.qa-article .qa-section:focus-visible, .qa-scroll:focus-visible {
  outline: 3px solid var(--qa-focus) !important; outline-offset: 2px; }
#qa-question textarea:focus, #qa-staff-question textarea:focus, #qa-staff-search textarea:focus {
  outline: 3px solid var(--qa-focus) !important; outline-offset: 1px; }
button[role="tab"].selected { color: var(--qa-link) !important; }
#qa-chat .icon-button, #qa-chat .scroll-down-button-container button {
  min-width: 28px; min-height: 28px; }
@media (pointer: coarse) {
  #qa-chat .icon-button { min-width: 40px; min-height: 40px; } }
#qa-chat .message-row:has(.qa-answer:not(.qa-votable)) + .message-buttons button[aria-label="J'aime"],
#qa-chat .message-row:has(.qa-answer:not(.qa-votable)) + .message-buttons button[aria-label="Aimé"],
#qa-chat .message-row:has(.qa-answer:not(.qa-votable)) + .message-buttons button[aria-label="Je n'aime pas"],
#qa-chat .message-row:has(.qa-answer:not(.qa-votable)) + .message-buttons button[aria-label="Pas aimé"]
{ display: none; }
.qa-back-wrap { margin: 0 0 .5rem; }
.qa-vote-status { margin: 0; font-weight: 600; color: var(--body-text-color); }
#qa-vote-status:not(:has(.qa-vote-status)) { height: 0; min-height: 0; padding: 0; margin: 0;
  border: 0; overflow: hidden; }
#qa-example-buttons { flex-wrap: wrap; gap: .5rem; }
#qa-example-buttons button { flex: 0 1 auto; width: auto; }
#qa-chat .placeholder-content, #qa-chat .placeholder { padding-top: 1.5rem; }
.qa-article { max-width: 60rem; line-height: 1.6; color: var(--body-text-color); }
.qa-article .qa-section { padding: .25rem .75rem; border-radius: .375rem;
  border-left: 4px solid transparent; }
.qa-article .qa-hit-section { border-left-color: var(--qa-link); background: var(--color-accent-soft);
  color: var(--body-text-color); }
.qa-article .qa-hit { background: var(--qa-hit-bg); color: var(--qa-hit-text); }
.qa-article .qa-hit-key { background: var(--qa-mark-bg); color: var(--qa-mark-text);
  outline: 2px solid var(--qa-warn-edge); }
.qa-article .qa-byline { list-style: none; padding: 0; color: var(--body-text-color-subdued); }
.qa-scroll { overflow-x: auto; max-width: 100%; }
.qa-diagnostics table, table.qa-log { border-collapse: collapse; width: 100%; }
.qa-diagnostics table { min-width: 36rem; }
.qa-diagnostics th, .qa-diagnostics td, .qa-log th, .qa-log td {
  border: 1px solid var(--border-color-primary); padding: .25rem .5rem; text-align: left;
  vertical-align: top; color: var(--body-text-color); overflow-wrap: break-word; word-break: normal;
  hyphens: auto; }
.qa-log caption, .qa-diagnostics caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.qa-diagnostics dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
.qa-diagnostics dt { font-weight: 600; }
.qa-diagnostics dd { margin: 0; }
.qa-raw pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--background-fill-secondary);
  color: var(--body-text-color); padding: .5rem; border-radius: .375rem; font-size: .85em; }
.qa-raw summary { cursor: pointer; font-weight: 600; padding: .25rem 0; }
@media (max-width: 640px) {
  .qa-header h1 { font-size: 1.25rem; }
  .qa-tagline { font-size: .875rem; }
  #qa-chat .scroll-down-button-container { display: none; }
  #qa-chat .message-row.bot-row .message, #qa-chat .message-row .bot { padding-left: .25rem;
    padding-right: .25rem; }
  #qa-chat .message-row.bubble.bot-row { max-width: 100%; }
  #qa-chat .message-row.bubble.user-row { max-width: 90%; }
  .qa-log caption { display: block; }
  .qa-answer li.qa-passage { padding: .5rem; }
  .qa-answer blockquote.qa-key { padding: .5rem; }
  table.qa-log, .qa-log thead, .qa-log tbody, .qa-log tr, .qa-log td { display: block; }
  .qa-log thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  .qa-log tr { border: 1px solid var(--border-color-primary); border-radius: .375rem;
    margin: .5rem 0; padding: .25rem .5rem; }
  .qa-log td { border: 0; padding: .15rem 0; }
  .qa-log td::before { content: attr(data-label) " : "; font-weight: 600; }
  .qa-log td:empty { display: none; }
}
@media print {
  #qa-chat, #qa-chat * { max-height: none !important; overflow: visible !important; }
  #qa-chat, #qa-chat .bubble-wrap, #qa-chat .wrapper { height: auto !important; }
  #qa-ask-row, #qa-examples, #qa-clear, #qa-feedback-note, #qa-vote-status, #qa-chat .message-buttons,
  #qa-chat .icon-button-wrapper, #qa-chat label[data-testid="block-label"],
  #qa-chat .scroll-down-button-container, .tab-wrapper, [role="tablist"], .qa-back-wrap
  { display: none !important; }
  .qa-answer mark, .qa-article .qa-hit-key { background: #fde68a !important;
    print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .qa-answer li.qa-passage, .qa-answer blockquote.qa-key { border-color: #000 !important;
    break-inside: avoid; }
}
"""
