// Runs before Gradio's front end, inline in the page's <head> (with the response's CSP nonce):
// Gradio picks its interface language (and sets <html lang>) from navigator.language, so make
// that French whatever the browser says. It also marks the app's own page (``__qaOwnPage``: a
// web component on a host page never runs it) and a framed page (``qa-framed`` on <html>).
(function () {
  try {
    Object.defineProperty(navigator, "language", {
      get: function () { return "fr-FR"; },
      configurable: true,
    });
    Object.defineProperty(navigator, "languages", {
      get: function () { return ["fr-FR", "fr"]; },
      configurable: true,
    });
  } catch (e) {}
  document.documentElement.lang = "fr";
  window.__qaOwnPage = true;
  if (window.top !== window.self) {
    document.documentElement.classList.add("qa-framed");
  }
})();
