"""The oracles of the browser suite can fail: axe-core, the sideways-scroll check and the page
guard (dialogs, console errors, CSP violations) each catch a planted fault."""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PageGuard, Shots
from tests.browser.test_accessibility import check_page


def test_axe_and_the_scroll_check_report_planted_faults(page: Page, shoot: Shots) -> None:
    page.goto("/login")
    page.evaluate(
        """() => {
             const main = document.querySelector('main');
             const img = document.createElement('img');
             img.src = '/static/favicon.svg';
             main.append(img);                        // no alt text: axe image-alt, critical
             const wide = document.createElement('div');
             wide.textContent = 'rộng';
             wide.style.cssText = 'width: 900px';     // CSSOM, allowed by the CSP
             main.append(wide);
           }"""
    )
    with pytest.raises(AssertionError) as failure:
        check_page(page, shoot, "planted-faults")
    message = str(failure.value)
    assert "axe image-alt (critical)" in message
    assert "horizontal scroll: scrollWidth" in message and "> 360 px of screen" in message


def test_the_page_guard_reports_a_dialog_and_a_csp_violation(page: Page) -> None:
    page.goto("/login")
    guard = PageGuard(page)  # a second guard on the same page, read here rather than at teardown
    page.evaluate("() => alert('XSS-05')")  # what an injected script would do
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.ran = true'; document.body.append(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran === undefined")  # the CSP blocked the inline script
    problems = guard.problems()
    assert any("dialog opened: alert: 'XSS-05'" in p for p in problems), problems
    assert any("Content Security Policy" in p for p in problems), problems
    page.guard.dialogs.clear()  # type: ignore[attr-defined]
    page.guard.errors.clear()  # type: ignore[attr-defined]
