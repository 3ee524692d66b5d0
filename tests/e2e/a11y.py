"""Accessibility checks the browser journeys run on every page and state they reach.

`audit(page, where)` runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) and a few checks
axe cannot make, and fails with a readable list when anything is wrong:

- nothing scrolls sideways (the page is no wider than the viewport, down to 320 px);
- buttons, radios, the header's and back links, and the links in task lists, summary
  lists, cards and tables are at least 44x44 CSS px (inline links in running text are exempt,
  as WCAG 2.5.8 allows);
- anything that updates by itself (htmx `every` polling) is inside an aria-live region;
- with `prefers-reduced-motion: reduce` nothing on the page animates;
- after an htmx page swap, focus is on the new page's h1 or on its error summary.

The page objects (tests/e2e/pages.py) call it after every navigation, before every action
and on every error, and the `make_context` fixture audits each page still open when a test
ends, so a journey is checked wherever it goes without asking. Our checks are cheap and
run every time; axe runs once per state (same URL, title and DOM). axe-core comes from the
`axe-playwright-python` package (nothing is downloaded at run time); it is injected with
`page.evaluate`, which the site's strict CSP (`script-src 'self'`) does not block, and it
runs in pages without JavaScript too.
"""

from __future__ import annotations

import json
from contextlib import suppress
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# axe's tags for the success criteria of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
MIN_TARGET_PX = 44
# Installer pages: AAA as well, and larger targets.
WCAG_AAA_TAGS = [*WCAG_AA_TAGS, "wcag2aaa"]
INSTALLER_MIN_TARGET_PX = 48
INSTALLER_PAGE_SCRIPT = "() => !!document.querySelector('.installer-page')"

# Third-party widgets we cannot fix, by the path of the page that shows them: left out of
# every check (axe's and ours), node by node. Never our own markup.
THIRD_PARTY_WIDGETS: dict[str, list[str]] = {
    # The API reference: Swagger UI (vendored, static/vendor/swagger-ui) renders it inside
    # our #swagger-ui. Its own markup and stylesheet fail, and we leave out only those
    # widgets: the version badges and spec link (colour contrast), the Authorize bar, the
    # operation tags and bars (buttons nested in buttons, low-contrast method badges, small
    # targets), the tabs, "Try it out" and example boxes of an opened operation (small
    # targets, a scroll box that takes no focus) and the schema browser (small targets,
    # low contrast). Our page shell, the API's title and description are still audited.
    "/api/v1/docs": [
        "#swagger-ui .info .version-stamp",
        "#swagger-ui .info .version",
        "#swagger-ui .info .url",
        "#swagger-ui .scheme-container",
        "#swagger-ui .opblock-tag",
        "#swagger-ui .opblock-summary",
        "#swagger-ui .opblock .tab",
        "#swagger-ui .opblock .try-out",
        "#swagger-ui .opblock .microlight",
        "#swagger-ui .models",
    ],
}

# Marks an htmx swap of <main> so the next audit can check where focus went. An init script
# runs in every page of a context, before the page's own scripts, and the CSP does not apply.
SWAP_WATCH_SCRIPT = """
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail && event.detail.target && event.detail.target.id === "main") {
    window.__a11ySwapped = true;
  }
});
"""

# Every check but axe's, in one round trip; returns a list of readable problems.
PAGE_CHECKS_SCRIPT = r"""
([minTarget, excluded]) => {
  const problems = [];
  const isExcluded = (el) => excluded.some((selector) => el.closest(selector));
  const doc = document.documentElement;
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden"
      && !el.closest("[hidden], .visually-hidden");
  };
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "")
      .replace(/\s+/g, " ").trim();
    const id = el.id ? "#" + el.id : "";
    const cls = el.classList.length ? "." + [...el.classList].join(".") : "";
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text.slice(0, 40)}"`;
  };

  // 1.4.10 Reflow: nothing scrolls sideways.
  if (doc.scrollWidth > doc.clientWidth + 1) {
    const wide = [...document.body.querySelectorAll("*")].filter((el) => visible(el)
      && el.getBoundingClientRect().right > doc.clientWidth + 1 && !el.closest(".table-wrap"));
    const ours = wide.filter((el) => !isExcluded(el));
    if (ours.length || !wide.length) {
      problems.push(`scrolls sideways: the page is ${doc.scrollWidth}px wide in a `
        + `${doc.clientWidth}px viewport; too wide: ${ours.slice(0, 5).map(describe).join(", ")}`);
    }
  }

  // Targets of at least 44x44 CSS px. A radio's target is its input and its label together
  // (both select it), a stretched link's is the box its ::after covers; links inside running
  // text are not listed, as WCAG 2.5.8 exempts them.
  const targets = document.querySelectorAll([
    "button", "input[type=submit]", "input[type=button]", ".button", "summary",
    ".radio__label", "input[type=checkbox] + label",
    ".site-header a", ".language-switch a", ".back-link", ".skip-link:focus",
    ".task-list a", ".summary-list a", ".card a", "td a",
  ].join(","));
  for (const el of targets) {
    if (!visible(el) || isExcluded(el)) continue;
    let box = el.getBoundingClientRect();
    const after = getComputedStyle(el, "::after");
    if (after.content !== "none" && after.position === "absolute" && el.offsetParent
        && ["top", "right", "bottom", "left"].every((side) => after[side] === "0px")) {
      // A stretched link: its ::after covers the nearest positioned ancestor (a task row).
      box = el.offsetParent.getBoundingClientRect();
    } else if (el.matches(".radio__label") && el.control) {
      const input = el.control.getBoundingClientRect();
      const left = Math.min(box.left, input.left), top = Math.min(box.top, input.top);
      const right = Math.max(box.right, input.right), bottom = Math.max(box.bottom, input.bottom);
      box = {width: right - left, height: bottom - top};
    }
    // Half a pixel of rounding (rem-based sizes at 19px type) is not a smaller target.
    if (box.width + 0.5 < minTarget || box.height + 0.5 < minTarget) {
      problems.push(`target smaller than ${minTarget}x${minTarget}px `
        + `(${box.width.toFixed(1)}x${box.height.toFixed(1)}): ${describe(el)}`);
    }
  }

  // 4.1.3 Status messages: what changes by itself is announced.
  for (const el of document.querySelectorAll("[hx-trigger*=every], [data-hx-trigger*=every]")) {
    if (!el.closest("[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]")) {
      problems.push(`updates by itself outside an aria-live region: ${describe(el)}`);
    }
  }

  // 2.3.3 / prefers-reduced-motion: nothing moves when the reader asked for less motion.
  if (matchMedia("(prefers-reduced-motion: reduce)").matches) {
    const moving = document.getAnimations().filter((a) => a.playState === "running")
      .map((a) => (a.effect && a.effect.target ? describe(a.effect.target) : "?")
        + ` (${a.animationName || a.transitionProperty || "script"})`);
    for (const el of document.querySelectorAll("*")) {
      for (const pseudo of [null, "::before", "::after"]) {
        const style = getComputedStyle(el, pseudo);
        const durations = style.animationDuration.split(",").map(parseFloat);
        if (style.animationName !== "none" && durations.some((d) => d > 0)) {
          moving.push(describe(el) + (pseudo || "") + ` (${style.animationName})`);
        }
      }
    }
    if (moving.length) {
      problems.push("animates despite prefers-reduced-motion: "
        + [...new Set(moving)].slice(0, 5).join(", "));
    }
  }

  // After an htmx swap of <main>, focus moves to the new page's h1 or its error summary.
  if (window.__a11ySwapped) {
    window.__a11ySwapped = false;
    const active = document.activeElement;
    if (!active || !active.matches("h1, [data-error-summary]")) {
      problems.push("after an htmx swap focus is on "
        + (active ? describe(active) : "nothing") + ", not on the h1 or the error summary");
    }
  }
  return problems;
}
"""

# A cheap fingerprint of what the page shows: an audited state is not audited again.
FINGERPRINT_SCRIPT = """
() => {
  const text = location.href + "\\n" + document.title + "\\n"
    + (document.body ? document.body.innerHTML : "");
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return `${location.href} ${text.length} ${hash}`;
}
"""

# Waits (briefly) until no htmx request, swap or settle is under way.
SETTLED_SCRIPT = """
() => document.readyState === "complete"
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")
"""

# With JavaScript off the page's timers never fire, and axe waits on setTimeout: in such a
# page, audits first swap in a setTimeout that runs its callback as a microtask.
TIMERS_AS_MICROTASKS_SCRIPT = """
() => {
  window.setTimeout = (callback, delay, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 0;
  };
  window.clearTimeout = () => {};
}
"""

_audited: WeakKeyDictionary[Page, set[str]] = WeakKeyDictionary()
_scriptless: WeakKeyDictionary[BrowserContext, bool] = WeakKeyDictionary()


def watch(context: BrowserContext, *, javascript: bool = True) -> None:
    """Prepare a new context for audits: say whether its pages run scripts; watch htmx swaps."""
    _scriptless[context] = not javascript
    if javascript:
        context.add_init_script(SWAP_WATCH_SCRIPT)


@cache
def axe_source() -> str:
    """axe-core's source, as bundled by the axe-playwright-python package."""
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


class AccessibilityError(AssertionError):
    """A page or state of a journey broke one of the checks."""


def _format_violations(violations: list[dict[str, Any]]) -> list[str]:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} [{violation.get('impact') or 'n/a'}]: {violation['help']} "
            f"({violation['helpUrl'].split('?')[0]})"
        )
        for node in violation["nodes"]:
            target = " ".join(
                json.dumps(t) if not isinstance(t, str) else t for t in node["target"]
            )
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
    return lines


def run_axe(
    page: Page, exclude: list[str] | None = None, tags: list[str] | None = None
) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations (or those of `tags`) on the page, leaving out
    `exclude` (CSS selectors)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        if _scriptless.get(page.context, False):
            page.evaluate(TIMERS_AS_MICROTASKS_SCRIPT)
        page.evaluate(axe_source())
    context: dict[str, Any] = {"exclude": [[selector] for selector in exclude or []]}
    options = {
        "runOnly": {"type": "tag", "values": tags or WCAG_AA_TAGS},
        "resultTypes": ["violations"],
    }
    return page.evaluate(
        "([context, options]) => axe.run(context.exclude.length ? context : document, options)"
        ".then((results) => results.violations)",
        [context, options],
    )


def audit(
    page: Page, where: str = "", *, exclude: list[str] | None = None, force: bool = False
) -> None:
    """Check the page as it is now; raise AccessibilityError listing everything wrong.

    `where` names the state in the message. `exclude` leaves nodes out of axe's run (only for
    third-party widgets we cannot fix; by default THIRD_PARTY_WIDGETS for the page's path).
    axe skips a state it has already seen (same URL, title and DOM) unless `force`.
    """
    if exclude is None:
        exclude = THIRD_PARTY_WIDGETS.get(urlsplit(page.url).path, [])
    try:
        _audit_once(page, where, exclude, force)
    except PlaywrightError as error:
        # A full page load started under our feet (a form posted without JavaScript):
        # audit the page it lands on instead.
        if "context was destroyed" not in str(error) and "navigat" not in str(error):
            raise
        page.wait_for_load_state()
        _audit_once(page, where, exclude, force)


def _audit_once(page: Page, where: str, exclude: list[str], force: bool) -> None:
    # A page that polls by itself may never be quite idle: then audit it as it is.
    with suppress(PlaywrightTimeoutError):
        page.wait_for_function(SETTLED_SCRIPT, timeout=3000, polling=50)
    # Our own checks are cheap and always run; axe runs once per state.
    installer = page.evaluate(INSTALLER_PAGE_SCRIPT)
    min_target = INSTALLER_MIN_TARGET_PX if installer else MIN_TARGET_PX
    problems = page.evaluate(PAGE_CHECKS_SCRIPT, [min_target, exclude])
    fingerprint = page.evaluate(FINGERPRINT_SCRIPT)
    seen = _audited.setdefault(page, set())
    tags = WCAG_AAA_TAGS if installer else WCAG_AA_TAGS
    violations = run_axe(page, exclude, tags) if force or fingerprint not in seen else []
    seen.add(fingerprint)
    if problems or violations:
        size = page.viewport_size or {"width": 0, "height": 0}
        heading = f"accessibility problems on {page.url}"
        heading += f" ({where})" if where else ""
        heading += f" at {size['width']}x{size['height']}, title {page.title()!r}:"
        lines = [heading, *(f"  {p}" for p in problems)]
        lines += [f"  {line}" for line in _format_violations(violations)]
        fail("\n".join(lines))


def fail(message: str) -> None:
    """Fail the test with the audit's findings."""
    raise AccessibilityError(message)


def is_app_page(page: Page, base_url: str) -> bool:
    """The page shows an HTML document of the app (not a JSON body, a script, about:blank)."""
    if page.is_closed() or not page.url.startswith(base_url):
        return False
    try:
        return page.evaluate("() => document.contentType") == "text/html"
    except PlaywrightError:
        return False


FOCUS_VISIBLE_SCRIPT = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const transparent = (colour) => /rgba\(.*,\s*0\)$/.test(colour) || colour === "transparent";
  const shows = (style) => style.boxShadow !== "none" || (style.outlineStyle !== "none"
    && parseFloat(style.outlineWidth) > 0 && !transparent(style.outlineColor));
  const styles = [getComputedStyle(el)];
  if (el.matches("input[type=radio], input[type=checkbox]")) {
    for (const label of el.labels || []) styles.push(getComputedStyle(label, "::before"));
    const radio = el.closest(".radio");
    if (radio) styles.push(getComputedStyle(radio));
  }
  return styles.some(shows);
}
"""


def focus_is_visible(page: Page) -> bool:
    """The focused element shows a focus indicator: a visible outline or a box-shadow.

    A radio input is drawn by its label, so for a radio the label's circle (::before) and the
    radio's box count as its indicator.
    """
    return page.evaluate(FOCUS_VISIBLE_SCRIPT)
