() => {
  // The public page's script (Gradio's ``js``: this file is one function expression, which
  // Gradio runs once, in the app's page or, for a web component, in the host page):
  // - a click on a citation opens the article tab, highlights the passage and its key sentence,
  //   scrolls to them and moves the focus there; « Retour à la conversation » brings it back;
  // - embedded (a frame or a web component), it never scrolls the host page: only the app's own
  //   scroll boxes (the chat, the article) move, and focus() never scrolls (``preventScroll``);
  // - a reply's citation links are one Tab stop, the arrow keys move between them;
  // - a new question scrolls the chat (and, on the app's own page on a phone, the page) to it;
  // - Gradio's English screen-reader labels become French, 👍 comes before 👎;
  // - a refused question (rate limit) or a failed one: Gradio's English toast is replaced by its
  //   French message in the status line under the chat;
  // - the question box takes the focus only on the app's own, unframed page (never on a host page);
  // - framed, the page tells its parent its height (``{"qa": "height", "height": px}``).
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
