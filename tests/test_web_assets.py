"""The page's script and style live in ``qa/web/static/``, not in Python strings, and they parse.

Ruff lints no JavaScript: Chromium parses each script (a browser test); the fast tests check the
CSS braces, the inline files, and that no module of ``src/qa`` holds a script or a CSS rule.
"""

from __future__ import annotations

import io
import re
import tokenize
from importlib.resources import files
from pathlib import Path

import pytest
from support.browser import needs_chromium
from support.paths import REPO

from qa.web import assets

STATIC = files("qa.web") / "static"
SCRIPTS = sorted(entry.name for entry in STATIC.iterdir() if entry.name.endswith(".js"))
STYLES = sorted(entry.name for entry in STATIC.iterdir() if entry.name.endswith(".css"))
INLINE = {"head.js", "head.css"}  # in the page's <head>; the other scripts are Gradio's ``js``
SOURCES = sorted((REPO / "src" / "qa").rglob("*.py"))

# In a Python string: a script or style element with a body (only ``{placeholder}`` is allowed,
# the content of a file), an arrow function or a function body, a CSS rule ``x { a: b; }``.
ELEMENT = re.compile(r"<(script|style)\b[^>\n]*>(?!\{[^{}\n]*\}</\1>)", re.IGNORECASE)
FUNCTION = re.compile(r"=>|\bfunction\s*\([^)]*\)\s*\{")
CSS_RULE = re.compile(r"[\w\])*-]\s*\{[^{}]*?[a-z-]+\s*:\s*[^;{}\n]+;[^{}]*\}")


def strings(path: Path) -> list[str]:
    """The string literals of a module as written (f-strings whole), comments left out."""
    source = path.read_text(encoding="utf-8")
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    found, opened = [], []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and not opened:
            found.append(token.string)
        elif token.type == getattr(tokenize, "FSTRING_START", None):  # Python 3.12+
            opened.append(token.start)
        elif token.type == getattr(tokenize, "FSTRING_END", None):
            (row, col), (end_row, end_col) = opened.pop(), token.end
            if not opened:
                found.append(source[starts[row - 1] + col : starts[end_row - 1] + end_col])
    return found


def test_the_static_files_are_there() -> None:
    assert {"head.js", "page.js", "scope.js"} <= set(SCRIPTS)
    assert {"head.css", "page.css"} <= set(STYLES)


def test_the_public_names_are_the_files() -> None:
    assert assets.CITATION_SCRIPT == (STATIC / "page.js").read_text(encoding="utf-8")
    assert assets.SCOPE_SCRIPT == (STATIC / "scope.js").read_text(encoding="utf-8")
    assert assets.CSS == (STATIC / "page.css").read_text(encoding="utf-8")
    head = assets.head_html("Titre <x>")
    for name in sorted(INLINE):
        assert (STATIC / name).read_text(encoding="utf-8") in head
    assert head.startswith("<script>") and "<title>Titre &lt;x&gt;</title>" in head
    assert assets.static_text("page.js") is assets.static_text("page.js")  # read once


@pytest.mark.parametrize("name", [name for name in SCRIPTS if name not in INLINE])
def test_gradio_scripts_are_one_function_expression(name: str) -> None:
    # Gradio wraps ``js`` as ``(js)(…)``: the file is the function, and nothing else.
    text = (STATIC / name).read_text(encoding="utf-8")
    assert re.match(r"\((\w+(, *\w+)*)?\) => \{\n", text), text[:40]
    assert text.endswith("\n}\n")


@pytest.mark.parametrize("name", STYLES)
def test_css_braces_balance(name: str) -> None:
    text = re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(encoding="utf-8"), flags=re.DOTALL)
    text = re.sub(r'"[^"\n]*"', '""', text)  # attribute selectors and content: "…"
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, f"{name}: a }} closes nothing"
    assert depth == 0, f"{name}: {depth} {{ left open"
    assert "/*" not in text and "*/" not in text, f"{name}: an unclosed comment"


@pytest.mark.parametrize("name", sorted(INLINE))
def test_inline_files_cannot_close_their_element(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8").lower()
    assert not any(closer in text for closer in assets.CLOSERS)


def test_an_inline_file_that_would_close_its_element_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "static_text", lambda name: "a</script><script>alert(1)")
    with pytest.raises(ValueError, match="</script"):
        assets.head_html("x")


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPO / "src")))
def test_no_script_or_style_in_python_strings(path: Path) -> None:
    for text in strings(path):
        for pattern in (ELEMENT, FUNCTION, CSS_RULE):
            found = pattern.search(text)
            assert found is None, f"{path.name}: {found.group(0)!r} (put it in qa/web/static/)"


def test_the_check_finds_what_it_looks_for() -> None:
    assert ELEMENT.search("<script>(function(){})()</script>")
    assert ELEMENT.search("<style>p { color: red; }</style>")
    assert not ELEMENT.search("<script>{script}</script>")
    assert FUNCTION.search("() => {}") and FUNCTION.search("function(){ return 1; }")
    assert CSS_RULE.search(".qa-x { display: none; }")
    assert CSS_RULE.search("@media print {\n  #a, #b { color: #000 !important; }\n}")
    assert not CSS_RULE.search("{'a': 1, 'b': 2}") and not CSS_RULE.search("{value:.2f}")


PARSE = """([text, inline]) => {
  try {
    if (inline) { new Function(text); return "ok"; }
    return typeof new Function("return (" + text + "\\n);")();
  } catch (error) { return `${error.name}: ${error.message}`; }
}"""


def parse(browser: object, text: str, inline: bool) -> str:
    """Compile ``text`` in Chromium, never run it: a script as a function body, Gradio's ``js``
    as the expression a function returns (``"function"``); else the error."""
    page = browser.new_page()
    try:
        return page.evaluate(PARSE, [text, inline])
    finally:
        page.close()


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_parse_in_chromium(browser: object, name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    assert parse(browser, text, name in INLINE) == ("ok" if name in INLINE else "function")


@pytest.mark.browser
@needs_chromium
def test_the_parse_check_catches_errors(browser: object) -> None:
    assert parse(browser, "() => {\n  const a = ;\n}\n", False).startswith("SyntaxError")
    assert parse(browser, "(function () {\n", True).startswith("SyntaxError")
    assert parse(browser, "const x = 1;\n", False).startswith("SyntaxError")  # not an expression
