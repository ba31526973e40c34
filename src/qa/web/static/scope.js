(hint) => {
  // Runs in the browser when the page loads (Gradio's ``js`` of the load event: this file is one
  // function expression): the article the page is scoped to (``?article=ID``), read from the
  // page's own address, or, for a web component, from its ``src`` (not from the host page's
  // address, whose query may mean something else). The server checks it (qa.web.ui.page_scope).
  const fromUrl = (url) => {
    try { return new URL(url, window.location.href).searchParams.get("article") || ""; }
    catch (error) { return ""; }
  };
  if (window.__qaOwnPage) return fromUrl(window.location.href);
  const app = document.querySelector("gradio-app");
  return app ? fromUrl(app.getAttribute("src") || "") : "";
}
