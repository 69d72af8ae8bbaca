"""The web console end to end: a real server, headless Chromium driven by Selenium, the
sample CRM behind it. Screenshots of each step land in build/console-screenshots/."""

from __future__ import annotations

import copy
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from crmassist.access.keys import issue_key
from crmassist.api import create_app
from crmassist.db import session_scope
from crmassist.runtime import Runtime

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parent.parent / "build" / "console-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    pytest.skip(
        "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(sample_rt: Runtime) -> Iterator[str]:
    rt = copy.copy(sample_rt)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """A fresh browser per test: no session storage or pending sign-in leaks between them."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(executable_path=DRIVER)
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def key_for(rt: Runtime, user: str) -> str:
    with session_scope(rt.sessions) as session:
        return issue_key(session, user, "console test").key


def sign_in(browser: WebDriver, server: str, key: str) -> WebDriverWait:
    browser.get(server + "/")
    wait = WebDriverWait(browser, 60)
    wait.until(ec.visibility_of_element_located((By.ID, "key")))
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "signin").click()
    wait.until(ec.visibility_of_element_located((By.ID, "app")))
    return wait


def tab(browser: WebDriver, name: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"nav button[data-tab='{name}']").click()


def open_customer(browser: WebDriver, wait: WebDriverWait, name: str) -> Any:
    """Customers tab -> search -> the first hit's page; returns the page's heading."""
    tab(browser, "customers")
    browser.find_element(By.ID, "customer-input").send_keys(name)
    browser.find_element(By.CSS_SELECTOR, "#customer-form button").click()
    first = (By.CSS_SELECTOR, "#customer-results .result")
    wait.until(ec.visibility_of_element_located(first)).click()
    return wait.until(ec.visibility_of_element_located((By.ID, "customer-name")))


def test_a_bad_key_is_refused(browser: WebDriver, server: str) -> None:
    browser.get(server + "/")
    browser.find_element(By.ID, "key").send_keys("crm_nope_nope")
    browser.find_element(By.ID, "signin").click()
    WebDriverWait(browser, 20).until(
        ec.text_to_be_present_in_element((By.ID, "login-error"), "Sign-in failed")
    )
    browser.save_screenshot(str(SHOTS / "0-login-refused.png"))


def test_chat_streams_an_answer_and_citations_open_records(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    wait = sign_in(browser, server, key_for(sample_rt, "U001"))
    assert "Dana Whitfield" in browser.find_element(By.ID, "who").text
    browser.find_element(By.ID, "chat-input").send_keys("prepare me for my meeting with Acme")
    browser.find_element(By.CSS_SELECTOR, "#chat-form button").click()
    answer = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".msg.assistant[data-done='1']"))
    )
    assert "[A001]" in answer.text and "Maria Gonzalez" in answer.text
    assert "customer_overview" in browser.find_element(By.CSS_SELECTOR, ".tool").text
    browser.save_screenshot(str(SHOTS / "1-chat.png"))
    ticket = next(
        c for c in answer.find_elements(By.CSS_SELECTOR, ".cite") if c.text.startswith("[T9001]")
    )
    ticket.click()
    body = wait.until(ec.visibility_of_element_located((By.ID, "record-body")))
    assert "E2" in body.text
    browser.save_screenshot(str(SHOTS / "2-cited-ticket.png"))


def test_kb_search_pipeline_chart_and_customer_page(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    wait = sign_in(browser, server, key_for(sample_rt, "U003"))
    tab(browser, "kb")
    browser.find_element(By.ID, "kb-input").send_keys("E3 high TDS")
    browser.find_element(By.CSS_SELECTOR, "#kb-form button").click()
    first = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#kb-results .result")))
    assert "KB-0003" in first.text
    browser.save_screenshot(str(SHOTS / "3-kb.png"))
    tab(browser, "pipeline")
    browser.find_element(By.CSS_SELECTOR, "#pipeline-form button").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart[data-drawn='1']")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart g.mark-rect path")) >= 3
    assert "stage" in browser.find_element(By.ID, "pipeline-table").text
    browser.save_screenshot(str(SHOTS / "4-pipeline.png"))
    name = open_customer(browser, wait, "Acme")
    assert "Acme Corporation" in name.text
    assert "Open deals" in browser.find_element(By.ID, "side").text
    browser.save_screenshot(str(SHOTS / "5-customer.png"))


def test_support_sees_the_same_customer_without_deals_and_with_masked_contacts(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    wait = sign_in(browser, server, key_for(sample_rt, "U010"))
    open_customer(browser, wait, "Acme")
    side = browser.find_element(By.ID, "side").text
    assert "Open deals" not in side and "m***@acme-corp.example" in side
    assert "maria.gonzalez@acme-corp.example" not in side
    browser.save_screenshot(str(SHOTS / "6-support-customer.png"))


def test_admins_read_the_audit_log_filtered_and_paged(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    from tests.agent_support import who

    rep = who(sample_rt, "U001")
    for n in range(55):
        sample_rt.audit.record(rep, "console:probe", target=f"interactions/IP{n:03d}", n=n)
    wait = sign_in(browser, server, key_for(sample_rt, "U013"))
    tab(browser, "audit")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#audit-table tbody tr")))
    browser.find_element(By.ID, "audit-action").send_keys("console:probe")
    browser.find_element(By.CSS_SELECTOR, "#audit-form button").click()
    rows = (By.CSS_SELECTOR, "#audit-table tbody tr")
    wait.until(lambda b: "interactions/IP054" in b.find_element(By.ID, "audit-table").text)
    assert len(browser.find_elements(*rows)) == 50  # one page, newest first
    first = browser.find_elements(*rows)[0].find_elements(By.TAG_NAME, "td")
    assert [c.text for c in first[2:5]] == ["U001", "console:probe", "interactions/IP054"]
    browser.save_screenshot(str(SHOTS / "7-audit.png"))
    browser.find_element(By.ID, "audit-more").click()
    wait.until(lambda b: len(b.find_elements(*rows)) == 55)
    assert "interactions/IP000" in browser.find_elements(*rows)[-1].text
    assert not browser.find_element(By.ID, "audit-more").is_displayed()
    assert "no older ones" in browser.find_element(By.ID, "audit-status").text
    browser.find_element(By.ID, "audit-user").send_keys("U002")
    browser.find_element(By.CSS_SELECTOR, "#audit-form button").click()
    wait.until(lambda b: not b.find_elements(*rows))
    assert "0 event(s)" in browser.find_element(By.ID, "audit-status").text


def test_the_audit_page_is_not_shown_to_others(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    sign_in(browser, server, key_for(sample_rt, "U003"))
    assert not browser.find_element(By.ID, "audit-tab").is_displayed()
    refused = browser.execute_async_script(
        "const done = arguments[0];"
        "api('/v1/audit').then(() => done('served'), (e) => done(e.message));"
    )
    assert refused == "only admins may do this"


# --- the dashboard, charts and Markdown answers (issue 14) ---------------------------------


def test_the_dashboard_draws_every_tile_in_the_viewers_scope(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    wait = sign_in(browser, server, key_for(sample_rt, "U003"))
    tab(browser, "dashboard")
    wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#dashboard-tiles[data-loaded='1']"))
    )
    tiles = browser.find_elements(By.CSS_SELECTOR, "#dashboard-tiles .tile")
    assert [t.get_attribute("data-tile") for t in tiles] == [
        "pipeline_by_stage",
        "pipeline_by_close_month",
        "win_rate",
        "weighted_forecast",
        "churn_risk",
        "csat_trend",
        "top_accounts",
    ]
    drawn = browser.find_elements(By.CSS_SELECTOR, ".tile-chart[data-drawn='1'] svg")
    assert len(drawn) == 6  # every tile but the churn list, which is a table
    forecast = browser.find_element(By.CSS_SELECTOR, "[data-tile='weighted_forecast'] .figure")
    assert forecast.text.endswith(" USD") and "Ask chat" in tiles[3].text
    assert "Sierra Nevada Resorts" in tiles[6].text  # the chart's axis labels
    browser.save_screenshot(str(SHOTS / "8-dashboard.png"))
    support = sign_in_again(browser, server, key_for(sample_rt, "U010"))
    tab(browser, "dashboard")
    support.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#dashboard-tiles[data-loaded='1']"))
    )
    text = browser.find_element(By.ID, "dashboard-tiles").text
    assert "may not see opportunities" in text and "CSAT" in text
    browser.save_screenshot(str(SHOTS / "9-support-dashboard.png"))


def sign_in_again(browser: WebDriver, server: str, key: str) -> WebDriverWait:
    browser.execute_script("sessionStorage.clear()")
    return sign_in(browser, server, key)


def test_answers_render_as_sanitised_markdown_with_their_chart(
    browser: WebDriver, server: str, sample_rt: Runtime
) -> None:
    wait = sign_in(browser, server, key_for(sample_rt, "U003"))
    html = browser.execute_script(
        "return renderMarkdown('| a |\\n|---|\\n| 1 |\\n\\n- x <img src=q onerror=alert(1)>"
        "<script>alert(2)</script>').innerHTML"
    )
    assert "<table>" in html and "<li>" in html and "<img" in html
    assert "onerror" not in html and "<script" not in html
    browser.find_element(By.ID, "chat-input").send_keys("total amount of open deals by stage")
    browser.find_element(By.CSS_SELECTOR, "#chat-form button").click()
    answer = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".msg.assistant[data-done='1']"))
    )
    assert len(answer.find_elements(By.CSS_SELECTOR, "table tr")) >= 3
    wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".reply-chart[data-drawn='1'] svg"))
    )
    browser.save_screenshot(str(SHOTS / "10-markdown-answer.png"))
