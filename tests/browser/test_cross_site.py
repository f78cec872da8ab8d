"""CSRF-02: a page on another site that auto-submits a form to the app, while the person is
signed in, changes nothing: the browser does not send the Lax session cookie on a cross-site
POST, and the app would refuse the missing CSRF token anyway."""

import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, Route

from lms.db import db
from tests.browser.conftest import Learner, LiveServer, sign_in

ATTACK = """<!doctype html><html lang="en"><title>Quà tặng</title><body>
<form id="f" method="post" action="{url}/language">
  <input name="locale" value="en"><input name="next" value="/account">
</form>
<script>document.getElementById('f').submit();</script></body></html>"""


def _locale(live_server: LiveServer, learner: Learner) -> str | None:
    from lms.accounts.models import User

    with live_server.app.app_context():
        return db.session.scalar(sa.select(User.locale).where(User.id == learner.id))


def test_a_cross_site_form_changes_nothing(
    page: Page, phone_context: BrowserContext, live_server: LiveServer, learner: Learner
) -> None:
    sign_in(page, learner.username)
    before = _locale(live_server, learner)
    answers: list[int] = []

    def attacker(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=ATTACK.format(url=live_server.url))

    phone_context.route("http://evil.example/**", attacker)
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/language") else None)
    page.guard.allow(r"status of 400")  # type: ignore[attr-defined]
    page.goto("http://evil.example/qua-tang")
    page.wait_for_load_state("networkidle")
    assert answers and answers[0] in (302, 400), answers
    assert _locale(live_server, learner) == before
    page.goto("/account")
    assert page.locator("html").get_attribute("lang") == "vi"  # still Vietnamese, still signed in
