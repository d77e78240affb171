"""No injection: every text that comes from data or specs is shown as text in every HTML page.

Unit names come from a register an office edits, method titles and indicator names from a spec anyone
may write, file names from the departments: a unit named ``<script>alert(1)</script>`` or
``<img src=x onerror=alert(2)>`` must read as that text, and run nothing. Three layers:

1. **escaping where the text enters a page**: tables (:func:`escape_frame`: every text cell and header
   HTML-escaped before pandas' Styler, which escapes nothing by default), Markdown
   (:func:`markdown_html`: rendered here with raw HTML escaped and unsafe link targets refused, then
   shown as HTML; nbconvert would pass raw HTML in a Markdown output through), the leader summary
   (``qyb.report.summary`` escapes each value);
2. **a final scrub of every published page** (:func:`sanitise_page`): whatever reached the HTML, no
   ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<form>``, ``<base>``, ``<link>`` or refresh,
   no event-handler attribute (``on…``), no ``javascript:`` or non-image ``data:`` URL survives (the
   pages need no script: figures are PNG images, tables are HTML);
3. **a Content-Security-Policy** in every page (:data:`CSP`): no script runs, nothing is fetched from
   elsewhere (images from the report folder or embedded, styles inline), no form is sent.

References
----------
OWASP Cross Site Scripting Prevention Cheat Sheet (output encoding, HTML sanitisation, CSP).
W3C Content Security Policy Level 3.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd

__all__ = ["CSP", "CSP_META", "escape_text", "escape_frame", "image_title", "markdown_html", "sanitise_page"]

#: the policy of every published page: nothing runs, nothing is fetched from elsewhere
CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
       "frame-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def escape_text(value) -> str:
    """``value`` as HTML text (``<`` ``>`` ``&`` ``"`` ``'`` escaped); None and NaN as nothing."""
    blank = value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT
    return html.escape("" if blank else str(value), quote=True)


def escape_frame(frame):
    """``frame`` with every text cell and text header HTML-escaped, for a pandas Styler (which renders
    cells and headers as raw HTML). Numbers stay numbers; the frame itself when nothing needs it."""
    import pandas as pd

    def needs(v) -> bool:
        return isinstance(v, str) and any(ch in v for ch in "<>&\"'")

    out = frame
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        mask = series.map(needs)
        if mask.any():
            out = out.copy() if out is frame else out
            out[col] = series.where(~mask, series[mask].map(escape_text))
    headers = {c: escape_text(c) for c in frame.columns if needs(c)}
    return out.rename(columns=headers) if headers else out


_MARKDOWN = None


def markdown_html(text: str) -> str:
    """Markdown ``text`` as an HTML fragment, with any raw HTML in it escaped (shown as text) and link or
    image targets other than web, mail and relative ones refused (mistune ``escape=True``; its
    ``safe_url``). Headings, emphasis, lists, quotes, tables, code as nbconvert would render them."""
    global _MARKDOWN
    if _MARKDOWN is None:
        import mistune

        _MARKDOWN = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return _MARKDOWN(str(text))


# ---------------------------------------------------------------- the final scrub
#: elements dropped with everything inside them
_DROP_WITH_CONTENT = {"script", "iframe", "object", "embed", "applet", "frame", "frameset", "noscript",
                      "template", "noembed", "noframes"}
#: elements dropped, their content kept
_DROP_TAG = {"base", "form", "link", "input", "button", "textarea", "select", "option", "portal"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr"}
_URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "background", "poster", "cite", "data",
              "codebase", "longdesc", "usemap", "srcset", "ping", "lowsrc", "dynsrc"}
_SAFE_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
_IMAGE_DATA = re.compile(r"^data:image/(?:png|jpeg|gif|webp);", re.I)
_INVISIBLE_URL = re.compile(r"[\x00-\x20\x7f]+")


def _url_ok(name: str, value: str) -> bool:
    """A link or image target a published page may keep: relative, ``#…``, http(s), mailto, or an embedded
    PNG/JPEG/GIF/WebP image (``src`` only)."""
    if name in ("srcset", "ping", "lowsrc", "dynsrc", "action", "formaction", "codebase", "data", "background"):
        return False
    url = _INVISIBLE_URL.sub("", html.unescape(value))
    if not _SAFE_URL.match(url):
        return True  # relative (figures/x.png, #anchor, 01_ranking.html)
    if url.lower().startswith(_SAFE_SCHEMES):
        return True
    return name == "src" and bool(_IMAGE_DATA.match(url))


class _Scrubber(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip: list[str] = []  # open elements dropped with their content
        self.removed = 0

    def _attrs(self, tag: str, attrs) -> str:
        kept = []
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on") or name in ("srcdoc", "formaction", "action") or name.startswith("xmlns:"):
                self.removed += 1
                continue
            if tag == "meta" and name == "http-equiv":
                self.removed += 1
                return ""
            if value is not None and name in _URL_ATTRS and not _url_ok(name, value):
                self.removed += 1
                continue
            if value is not None and name == "style" and re.search(r"(?i)(expression\s*\(|javascript:|url\s*\()",
                                                                    html.unescape(value)):
                self.removed += 1
                continue
            kept.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
        return (" " + " ".join(kept)) if kept else ""

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag, attrs, closed: bool):
        if self.skip:
            if tag in _DROP_WITH_CONTENT and not closed and tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _DROP_WITH_CONTENT:
            self.removed += 1
            if not closed and tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _DROP_TAG:
            self.removed += 1
            return
        if tag == "meta" and any(n.lower() == "http-equiv" for n, _ in attrs):
            self.removed += 1  # a refresh, or a policy other than ours
            return
        self.out.append(f"<{tag}{self._attrs(tag, _accessible(tag, attrs))}{' /' if closed else ''}>")

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in _DROP_WITH_CONTENT or tag in _DROP_TAG:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)

    def handle_entityref(self, name):
        if not self.skip:
            self.out.append(f"&{name};")

    def handle_charref(self, name):
        if not self.skip:
            self.out.append(_charref(name))

    def handle_comment(self, data):
        pass  # comments are dropped (conditional comments of old browsers could hide markup)

    def handle_decl(self, decl):
        if not self.skip:
            self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass


#: the parts of a notebook page a keyboard reaches (nbconvert's choice): each cell's text and each output
_FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}


def _charref(name: str) -> str:
    """A numeric character reference (``&#24179;``, ``&#x5e73;``) as its character when that is plain text
    (nbconvert writes the Chinese of Markdown headings so; a page reads, and is searched, as text), else
    kept as written (markup characters, controls, what is not a character)."""
    try:
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        char = chr(code)
    except (ValueError, OverflowError):
        return f"&#{name};"
    if char in "<>&\"'" or not char.isprintable() or 0xD800 <= code <= 0xDFFF:
        return f"&#{name};"
    return char


def _accessible(tag: str, attrs: list) -> list:
    """``attrs`` completed for readers of assistive technology, as nbconvert's HTML exporter completes them
    (in a second parse of the page that :func:`qyb.report.run.notebook_html` spares): an image without
    ``alt`` gets its title (:func:`image_title`, else 图表); each notebook output and the text of each
    Markdown cell is focusable (``tabindex``)."""
    names = {n.lower() for n, _ in attrs}
    if tag == "img" and "alt" not in names:
        src = next((v for n, v in attrs if n.lower() == "src" and v), "")
        return [*attrs, ("alt", image_title(src) or "图表")]
    if tag == "div" and "tabindex" not in names and any(
            n.lower() == "class" and _FOCUSABLE & set((v or "").split()) for n, v in attrs):
        return [*attrs, ("tabindex", "0")]
    return attrs


def image_title(src: str) -> str:
    """The ``Title`` a PNG embedded as ``data:image/png;base64,…`` carries (:func:`qyb.plots.save_figure`
    writes the figure's caption there, as an ``iTXt`` or ``tEXt`` chunk before the image data); "" if none.
    Only the first few kilobytes are decoded. Reference: PNG Specification (ISO/IEC 15948), 11.3.4."""
    import base64
    import binascii
    import struct
    import zlib

    head = "data:image/png;base64,"
    if not src.startswith(head):
        return ""
    try:
        data = base64.b64decode(src[len(head):len(head) + 8192].strip() + "==", validate=False)
    except (binascii.Error, ValueError):
        return ""
    at = 8  # the PNG signature
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IDAT" or len(body) < length:
            return ""
        keyword, _, rest = body.partition(b"\0")
        if keyword == b"Title":
            try:
                if kind == b"tEXt":
                    return rest.decode("latin-1")
                if kind == b"iTXt" and len(rest) >= 2:
                    compressed, text = rest[0], rest[2:].split(b"\0", 2)[-1]
                    return (zlib.decompress(text) if compressed else text).decode("utf-8")
            except (UnicodeDecodeError, zlib.error):
                return ""
        at += 12 + length
    return ""


def sanitise_page(page: str) -> str:
    """A published HTML page with nothing that could run or fetch (see the module doc) and :data:`CSP` as
    the first element of its ``<head>``. Text and the rest of the markup are kept as they were, images
    and notebook outputs made accessible (:func:`_accessible`)."""
    scrub = _Scrubber()
    scrub.feed(page)
    scrub.close()
    body = "".join(scrub.out)
    if re.search(r"<head[^>]*>", body, re.I):
        return re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + CSP_META, body, count=1, flags=re.I)
    return CSP_META + body
