#!/usr/bin/env python3
"""Differential check: policydiff's extraction against OTA's own engine.

Feeds the same pages to both and reports every difference. Pages are the
hand-written fixtures of tests/fixtures/pages/ plus generated ones: random but
reproducible documents mixing the markup policy pages are made of (headings,
nested lists, tables, links, images, code, quotes, entities, odd whitespace,
Markdown characters in text), with CSS, `remove` and range selectors.

Usage: run.py --binary target/release/policydiff --engine-dir DIR [--generated N] [--seed S]
DIR is a folder where `npm install @opentermsarchive/engine` was run.
Exit status: 0 when every page gives the same bytes, 1 otherwise.
"""

import argparse
import difflib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "pages"

WORDS = (
    "we collect personal data about you when you use our services including "
    "information you provide content interactions with AI features Meta models "
    "advertising partners third parties retention period deletion rights consent "
    "law enforcement requests international transfers children under 13 security "
    "encryption arbitration governing law"
).split()
ODD_TEXT = [
    "*bold?*", "_under_", "`tick`", "[bracket]", "back\\slash", "# not heading", "- dash",
    "+ plus", "= equals", "> quote", "~~~ tildes", "1. number", "12. twelve", "a|b", "<tag>",
    "&amp; ampersand", "&nbsp;nbsp&nbsp;", "caf\u00e9", "\u00a0lead nbsp", "trail nbsp\u00a0",
    "emoji \U0001F600", "\u65e5\u672c\u8a9e", "zero\u200bwidth", "tab\there", "line\nbreak",
    "  spaced  ", "\u2028sep", "(paren)", "\"quoted\"", "it's", "&lt;escaped&gt;", "--", "**",
    "\u3000ideographic", "\ufeffbom",
]
HREFS = [
    "/relative/path", "relative.html", "../up/one", "https://example.org/abs?utm_source=x&a=1",
    "#anchor", "", "mailto:dpo@example.com", "javascript:void(0)", "/with space/x",
    "/paren(1)", "//cdn.example.net/x", "?q=1", "/cdn-cgi/l/email-protection#7f1e",
    "https://EXAMPLE.com", "http://[::1", " /trimmed ",
]
BLOCKS = ["p", "div", "section", "article", "header", "footer", "aside", "nav", "main",
          "blockquote", "address", "figure", "center", "fieldset", "form", "details", "dl"]
INLINES = ["em", "i", "strong", "b", "span", "small", "sup", "sub", "del", "s", "strike",
           "u", "mark", "abbr", "label", "time", "code", "font", "cite", "q"]
MALFORMED = [
    "<b><i>misnested</b> text</i>", "<p>unclosed <p>second", "<ul><li>one<li>two</ul>",
    "<table><tr><td>a<td>b</table>", "<div><table>stray text<tr><td>x</td></tr></table></div>",
    "<p><div>block in p</div></p>", "<a href='/x'><p>block in link</p></a>", "<h2>title<br>second line</h2>",
    "<template><p>hidden</p></template>", "<iframe src='/x'></iframe>", "<video></video>",
    "<TABLE><TR><TH>Up</TH></TR></TABLE>", "<pre><!-- c --><code>x</code></pre>", "<pre><code>a</code> b</pre>",
    "<code>`</code>", "<code> x </code>", "<span> </span>word<span> </span>",
    "<ol start='2'><li>x</li><p>stray</p><li>y</li></ol>", "<blockquote>q1<br>q2</blockquote>",
    "<math><mi>x</mi></math>", "<svg><a href='/y'><text>t</text></a></svg>", "<p>a&#8232;b</p>",
    "<select><option>o</option></select>", "<textarea>t  a</textarea>", "<button>Go</button>",
    "<details><summary>S</summary>D</details>", "<ruby>kan<rt>k</rt></ruby>", "<object><param name=a value=b></object>",
    "<li>orphan item</li>", "<td>orphan cell</td>", "<table><caption>Cap</caption><tr><td>a</td><td>b</td></tr></table>",
    "<table><tfoot><tr><td>f</td></tr></tfoot><tbody><tr><td>b1</td><td>b2</td></tr></tbody><thead><tr><th>h</th></tr></thead></table>",
    "<table><thead><tr><td>  </td></tr></thead><tbody><tr><th>x</th><th>y</th></tr></tbody></table>",
    "<h1></h1><h2> </h2><p> </p>", "<em> </em><strong>\n</strong>", "<a href='/z'> </a>", "<a>no href</a>",
    "<a href='/t' title='multi\n\n  line'>t</a>", "<img alt='a\n  b' src='/i.png'>",
    "<ol><li><p>para item</p></li><li>plain</li></ol>", "<ul><li><ul><li>deep</li></ul></li></ul>",
    "<p>x<br><br>y</p>", "<pre>  lead\n\ttab</pre>", "<xmp><b>raw</b></xmp>", "<listing>l</listing>",
    "<p>5 &lt; 6 &amp;&amp; 7 &gt; 3</p>", "<p>&copy; &euro; &#x1F600; &bogus;</p>", "<dir><li>d</li></dir>",
    "<menu><li>m</li></menu>", "<hgroup><h1>a</h1><p>b</p></hgroup>", "<output>o</output>", "<canvas>c</canvas>",
]
WS = ["", " ", "  ", "\n", "\n  ", "\t", " \n "]


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.ids = 0

    def ws(self):
        return self.rng.choice(WS)

    def text(self):
        r = self.rng.random()
        if r < 0.25:
            return self.rng.choice(ODD_TEXT)
        words = self.rng.choices(WORDS, k=self.rng.randint(1, 8))
        text = " ".join(words)
        if self.rng.random() < 0.3:
            text = self.ws() + text + self.ws()
        if self.rng.random() < 0.2:
            text += self.rng.choice([".", ",", ":", ";", "!"])
        return text

    def attr_text(self):
        return self.text().replace('"', "&quot;")

    def inline(self, depth):
        r = self.rng.random()
        if r < 0.35 or depth > 4:
            return self.text()
        if r < 0.5:
            href = self.rng.choice(HREFS)
            title = f' title="{self.attr_text()}"' if self.rng.random() < 0.2 else ""
            inner = "".join(self.inline(depth + 1) for _ in range(self.rng.randint(0, 2)))
            if self.rng.random() < 0.1:
                inner = f"<div>{inner}</div>"
            return f'<a href="{href}"{title}>{self.ws()}{inner}{self.ws()}</a>'
        if r < 0.55:
            src = self.rng.choice(["/img/logo.png", "https://example.org/a.png", "", "rel.gif", "/a b.png"])
            alt = f' alt="{self.attr_text()}"' if self.rng.random() < 0.7 else ""
            title = f' title="{self.attr_text()}"' if self.rng.random() < 0.2 else ""
            return f'<img src="{src}"{alt}{title}>'
        if r < 0.6:
            return self.rng.choice(["<br>", "<br/>", "<wbr>", "<!-- note -->", "&nbsp;", " "])
        if r < 0.63:
            return '<svg viewBox="0 0 1 1"><title>icon</title><path d="M0"/></svg>'
        if r < 0.66:
            return '<input type="checkbox"' + (" checked" if self.rng.random() < 0.5 else "") + ">"
        tag = self.rng.choice(INLINES)
        inner = "".join(self.inline(depth + 1) for _ in range(self.rng.randint(0, 3)))
        return f"<{tag}>{self.ws()}{inner}{self.ws()}</{tag}>"

    def inlines(self, depth, low=1, high=4):
        return self.ws().join(self.inline(depth) for _ in range(self.rng.randint(low, high)))

    def list_(self, depth):
        tag = self.rng.choice(["ul", "ol"])
        start = ""
        if tag == "ol" and self.rng.random() < 0.3:
            start = f' start="{self.rng.choice(["3", "0", "9", "x", " 2 ", "-1", ""])}"'
        items = []
        for _ in range(self.rng.randint(1, 11 if tag == "ol" else 4)):
            content = self.inlines(depth + 1)
            if self.rng.random() < 0.25 and depth < 4:
                content += self.ws() + self.list_(depth + 1)
            if self.rng.random() < 0.15:
                content = f"<p>{content}</p>{self.ws()}<p>{self.inlines(depth + 1)}</p>"
            items.append(f"<li>{self.ws()}{content}{self.ws()}</li>")
        return f"<{tag}{start}>{self.ws()}" + self.ws().join(items) + f"{self.ws()}</{tag}>"

    def table(self, depth):
        cols = self.rng.randint(1, 4)
        rows = self.rng.randint(1, 4)
        parts = []
        head = self.rng.random()
        if head < 0.4:
            cells = "".join(f"<th>{self.inlines(depth + 1, 0, 2)}</th>" for _ in range(cols))
            parts.append(f"<thead><tr>{cells}</tr></thead>")
        elif head < 0.55:
            cells = "".join(f"<th>{self.inlines(depth + 1, 0, 2)}</th>" for _ in range(cols))
            parts.append(f"<tr>{cells}</tr>")
        body = []
        for _ in range(rows):
            n = self.rng.randint(1, cols)
            cells = []
            for _ in range(n):
                span = f' colspan="{self.rng.randint(2, 3)}"' if self.rng.random() < 0.1 else ""
                content = self.inlines(depth + 1, 0, 2)
                if self.rng.random() < 0.1:
                    content += "<br>" + self.text()
                if self.rng.random() < 0.05 and depth < 3:
                    content = self.table(depth + 1)
                cells.append(f"<td{span}>{self.ws()}{content}{self.ws()}</td>")
            body.append("<tr>" + self.ws().join(cells) + "</tr>")
        wrap = self.rng.random() < 0.6
        body_html = self.ws().join(body)
        parts.append(f"<tbody>{body_html}</tbody>" if wrap else body_html)
        return "<table>" + self.ws().join(parts) + "</table>"

    def block(self, depth):
        r = self.rng.random()
        if depth > 5 or r < 0.3:
            return f"<p>{self.ws()}{self.inlines(depth)}{self.ws()}</p>"
        if r < 0.4:
            level = self.rng.randint(1, 6)
            return f"<h{level}>{self.inlines(depth, 0, 3)}</h{level}>"
        if r < 0.52:
            return self.list_(depth)
        if r < 0.6:
            return self.table(depth)
        if r < 0.64:
            code = self.rng.choice(["let x = 1;\n  return x;", "a  b\n\n c", "<b>not bold</b>", "`x`"])
            if self.rng.random() < 0.5:
                return f"<pre><code>{code}</code></pre>"
            return f"<pre>{code}</pre>"
        if r < 0.67:
            return self.rng.choice(["<hr>", "<br>", "<p></p>", "<div> </div>", "<p>&nbsp;</p>"])
        if r < 0.7:
            return f'<div class="highlight-source-js"><pre>var a = 1;</pre></div>'
        if r < 0.73:
            return f"<dl><dt>{self.text()}</dt><dd>{self.inlines(depth)}</dd></dl>"
        if r < 0.76:
            return f"<noscript><p>{self.text()}</p></noscript>"
        if r < 0.8:
            return f"{self.inlines(depth)}"
        if r < 0.86:
            return self.rng.choice(MALFORMED)
        tag = self.rng.choice(BLOCKS)
        attrs = ""
        if self.rng.random() < 0.3:
            self.ids += 1
            attrs = f' id="s{self.ids}"'
        if self.rng.random() < 0.15:
            attrs += ' class="ad"'
        inner = self.ws().join(self.block(depth + 1) for _ in range(self.rng.randint(1, 4)))
        return f"<{tag}{attrs}>{self.ws()}{inner}{self.ws()}</{tag}>"

    def document(self):
        blocks = []
        for _ in range(self.rng.randint(2, 8)):
            self.ids += 1
            inner = self.ws().join(self.block(1) for _ in range(self.rng.randint(1, 4)))
            cls = ' class="ad"' if self.rng.random() < 0.15 else ""
            blocks.append(f'<section id="s{self.ids}"{cls}>{self.ws()}{inner}{self.ws()}</section>')
        base = '<base href="https://cdn.example.com/docs/">' if self.rng.random() < 0.1 else ""
        body = self.ws().join(blocks)
        return (f"<!DOCTYPE html><html><head><title>Policy</title>{base}<style>p{{color:red}}</style></head>"
                f"<body>{self.ws()}<script>var a='<p>x</p>';</script>{body}{self.ws()}</body></html>")

    def case(self, index):
        html = self.document()
        sections = self.ids
        r = self.rng.random()
        remove = None
        if r < 0.5:
            select = "body"
        elif r < 0.7:
            select = [f"#s{self.rng.randint(1, sections)}", "section:last-child"]
        elif r < 0.85:
            a, b = sorted(self.rng.sample(range(1, sections + 1), 2)) if sections > 1 else (1, 1)
            select = {self.rng.choice(["startBefore", "startAfter"]): f"#s{a}",
                      self.rng.choice(["endBefore", "endAfter"]): f"#s{b}"}
        else:
            select = "section p, section li"
        r = self.rng.random()
        if r < 0.3:
            remove = ".ad"
        elif r < 0.45 and sections > 2:
            # Ranges resolved against the unmodified page: one starts after an element another
            # selector removes, and two ranges may overlap.
            a, b, c = sorted(self.rng.sample(range(1, sections + 1), 3))
            remove = [f"#s{a}", {self.rng.choice(["startBefore", "startAfter"]): f"#s{a}",
                                 self.rng.choice(["endBefore", "endAfter"]): f"#s{b}"}]
            if self.rng.random() < 0.5:
                remove.append({"startBefore": f"#s{b}", "endAfter": f"#s{c}"})
            self.rng.shuffle(remove)
        return {"id": f"generated-{index:04d}", "html": html, "location": "https://example.com/legal/privacy",
                "select": select, "remove": remove}


def fixture_cases():
    cases = []
    for page in sorted(FIXTURES.glob("*.html")):
        rules_path = page.with_suffix(".json")
        rules = json.loads(rules_path.read_text()) if rules_path.exists() else {}
        cases.append({
            "id": f"fixture-{page.stem}",
            "path": str(page),
            "html": page.read_bytes().decode(rules.get("encoding", "utf-8"), "replace"),
            "location": rules.get("location", "https://example.com/legal/privacy"),
            "select": rules.get("select", "body"),
            "remove": rules.get("remove"),
        })
    return cases


def ours(binary, case, workdir):
    page = Path(workdir) / "page.html"
    page.write_text(case["html"], encoding="utf-8")
    content_type = "text/html; charset=utf-8"
    if "path" in case:  # fixtures: the real bytes, decoded by policydiff itself
        page = Path(case["path"])
        content_type = "text/html"
    declaration = {"name": "Diff", "terms": {"Privacy Policy": {"fetch": case["location"], "select": case["select"]}}}
    if case.get("remove"):
        declaration["terms"]["Privacy Policy"]["remove"] = case["remove"]
    decl_path = Path(workdir) / "Diff.json"
    decl_path.write_text(json.dumps(declaration))
    result = subprocess.run(
        [binary, "extract", "--declaration", str(decl_path), "--terms", "Privacy Policy",
         "--content-type", content_type, str(page)],
        capture_output=True, timeout=60)
    if result.returncode != 0:
        return {"error": result.stderr.decode("utf-8", "replace").strip()}
    return {"markdown": result.stdout.decode("utf-8")}


def reference(engine_dir, cases):
    payload = "".join(json.dumps(c) + "\n" for c in cases)
    result = subprocess.run(["node", str(HERE / "ota_extract.mjs")], input=payload.encode(),
                            capture_output=True, env={**os.environ, "OTA_ENGINE_DIR": engine_dir}, timeout=900)
    if result.returncode != 0:
        sys.exit(f"the reference engine failed: {result.stderr.decode()[-2000:]}")
    answers = {}
    for line in result.stdout.decode().split("\n"):
        if not line.strip():
            continue
        answer = json.loads(line)
        answers[answer["id"]] = answer
    return answers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--engine-dir", required=True)
    parser.add_argument("--generated", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20251216)
    parser.add_argument("--show", type=int, default=5, help="differences shown in full")
    parser.add_argument("--write-expected", action="store_true",
                        help="write OTA's output for each fixture page to tests/fixtures/pages/NAME.md")
    args = parser.parse_args()

    generator = Generator(random.Random(args.seed))
    cases = fixture_cases() + [generator.case(i) for i in range(args.generated)]
    expected = reference(args.engine_dir, cases)
    if args.write_expected:
        for case in cases:
            answer = expected.get(case["id"], {})
            if "path" in case and "markdown" in answer:
                Path(case["path"]).with_suffix(".md").write_text(answer["markdown"], encoding="utf-8")
    differing = []
    with tempfile.TemporaryDirectory() as workdir:
        for case in cases:
            got = ours(args.binary, case, workdir)
            want = expected.get(case["id"], {"error": "no answer"})
            if "markdown" in want and got.get("markdown") == want["markdown"]:
                continue
            if "error" in want and "error" in got:
                continue  # both refuse the page (no match, empty): same outcome
            differing.append((case, want, got))
    for case, want, got in differing[: args.show]:
        print(f"=== {case['id']} select={json.dumps(case['select'])} remove={json.dumps(case['remove'])}")
        if "markdown" in want and "markdown" in got:
            diff = difflib.unified_diff(want["markdown"].splitlines(), got["markdown"].splitlines(),
                                        "ota", "policydiff", lineterm="", n=1)
            print("\n".join(list(diff)[:40]))
        else:
            print(f"ota: {json.dumps(want)[:300]}\npolicydiff: {json.dumps(got)[:300]}")
    for case, _, _ in differing[args.show:]:
        print(f"=== {case['id']} (also differs)")
    print(f"differential: {len(cases)} pages, {len(differing)} differed")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
