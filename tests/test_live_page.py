"""The live page and the HTML report in real headless Chromium (Debian's, driven by Playwright).

The page must follow what arrives over REST without a reload; the report file must open with the network
off and still draw its charts. Each test saves a screenshot under its tmp_path and fails on any console
error (a broken script, a refused Content-Security-Policy, a failed request).
"""
import base64

import pytest
from playwright.sync_api import expect, sync_playwright

from simulator.cli import main

from tests.conftest import Client, casino_event

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USER, PASSWORD = "ops", "s3cret"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page in a context of its own, with every console error and page error it produced."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self):
        self.context.close()


@pytest.fixture
def watch(browser):
    opened = []

    def open_page(**context) -> Watched:
        opened.append(Watched(browser, **context))
        return opened[-1]
    yield open_page
    for w in opened:
        w.close()


@pytest.fixture
def live(start_server, watch):
    """An ftsim behind Basic auth, a sender with the credentials, and the page opened by a browser that has them."""
    server = start_server(basic_auth=f"{USER}:{PASSWORD}")
    watched = watch(http_credentials={"username": USER, "password": PASSWORD})
    watched.page.goto(server.url + "/")
    return server, Client(server.url, BASIC), watched


def play_round(client, user="52530", round_id="r1"):
    assert client.post_event(casino_event(user_id=user, round_id=round_id, activity_id=f"{round_id}-b"))[0] == 200
    assert client.post_event(casino_event(user_id=user, round_id=round_id, activity_id=f"{round_id}-w", type="Win",
                                          is_round_end=True))[0] == 200


def test_the_page_needs_the_same_credentials_as_the_api(start_server):
    server = start_server(basic_auth=f"{USER}:{PASSWORD}")
    for path in ("/", "/live/sections", "/live/pulse", "/api/report"):
        assert Client(server.url).get(path)[0] == 401
        assert Client(server.url, BASIC).get(path)[0] == 200


def test_counts_a_violation_and_the_checklist_change_without_a_reload(live, tmp_path):
    server, client, watched = live
    page = watched.page
    expect(page.locator("[data-count=received]")).to_have_text("0")
    expect(page.locator("#verdict")).to_have_attribute("data-passed", "false")
    expect(page.locator('[data-item="channel.rest"]')).to_have_attribute("data-status", "failed")
    page.evaluate("window.sameDocument = true")

    play_round(client)
    expect(page.locator("[data-count=received]")).to_have_text("2")
    expect(page.locator('[data-count="rest.received"]')).to_have_text("2")
    expect(page.locator('[data-item="channel.rest"]')).to_have_attribute("data-status", "passed")
    expect(page.locator("#verdict")).to_have_attribute("data-passed", "true")
    expect(page.locator("#live-status")).to_have_class("live ok")

    assert client.post_event(casino_event(activity_id="bad", currency="EURO", is_round_end=True))[0] == 400
    newest = page.locator("table.newest tr[data-id]").first
    expect(newest).to_contain_text("schema.enum")
    expect(newest).to_contain_text("/currency")
    expect(page.locator('[data-item="violations"]')).to_have_attribute("data-status", "failed")
    expect(page.locator("#verdict")).to_have_attribute("data-passed", "false")
    expect(page.locator('details[data-rule="schema.enum"] pre.payload span.hit')).to_have_text('  "currency": "EURO",')
    expect(page.locator("svg.chart.timeline rect.bar.bad")).to_have_count(1)

    assert page.evaluate("window.sameDocument") is True  # changed in place, never reloaded
    page.screenshot(path=str(tmp_path / "live-page.png"), full_page=True)
    assert watched.errors == []


def test_filters_narrow_the_page_and_learn_new_rules(live, tmp_path):
    server, client, watched = live
    page = watched.page
    play_round(client, user="alice", round_id="a1")
    expect(page.locator("[data-count=received]")).to_have_text("2")
    client.post_event(casino_event(user_id="bob", round_id="b1", amount=None))
    rule = page.locator("select[name=rule]")
    expect(rule.locator("option", has_text="schema.required")).to_have_count(1)  # seen after the page loaded

    page.fill("input[name=user_id]", "alice")
    page.press("input[name=user_id]", "Enter")
    expect(page.locator("#newest")).to_contain_text("No errors or warnings for these filters")
    expect(page.locator("#rounds tbody tr")).to_have_count(1)
    expect(page.locator("#rounds tbody")).to_contain_text("alice")
    assert page.url.endswith("/?user_id=alice")

    page.fill("input[name=user_id]", "")
    rule.select_option("schema.required")
    expect(page.locator("#violations details.rule")).to_have_count(1)
    expect(page.locator("#violations details.rule code").first).to_have_text("schema.required")
    expect(page.locator("#newest tr[data-id]")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "live-page-filtered.png"), full_page=True)
    assert watched.errors == []


def test_the_html_report_opens_offline_with_its_charts_drawn(start_server, watch, tmp_path):
    server = start_server()
    client = Client(server.url)
    play_round(client)
    client.post_event(casino_event(activity_id="bad", currency="EURO", meta={"note": "<b>not html</b>"}))
    out = tmp_path / "ftsim-report.html"
    assert main(["report", "--url", server.url, "--format", "html", "--out", str(out)]) == 0
    server.stop()  # nothing to reach any more, and the browser is offline too

    watched = watch(offline=True)
    fetched = []
    watched.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                          else (fetched.append(route.request.url), route.abort()))
    page = watched.page
    page.goto(out.as_uri())
    expect(page.locator("#verdict")).to_contain_text("Not ready to go live")
    for chart in ("timeline", "histogram"):
        bars = page.locator(f"svg.chart.{chart} rect.bar")
        assert bars.count() >= 1
        assert all(bars.nth(i).bounding_box()["height"] > 0 for i in range(bars.count()))
    assert page.locator("svg.chart.histogram line.budget").bounding_box()["height"] > 50
    expect(page.locator('details[data-rule="schema.enum"] pre.payload span.hit')).to_have_text('  "currency": "EURO",')
    expect(page.locator("#rounds tbody tr")).to_have_count(1)
    expect(page.locator("#sessions tbody tr")).to_have_count(1)
    assert page.locator("b", has_text="not html").count() == 0  # the sender's markup is shown as text
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert fetched == [] and watched.errors == []
