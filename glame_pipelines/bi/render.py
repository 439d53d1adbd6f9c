"""Open dashboards in headless Chromium as a user would, run by .venv-bi's Python (Selenium is one of
Superset's dependencies; the browser and driver are Debian's `chromium` and `chromium-driver`).

    python render.py BASE_URL OUT_DIR SLUG [SLUG ...]      (password in GLAME_BI_ADMIN_PASSWORD)

For each dashboard: seconds until every chart finished loading, the charts shown in an error state, every
`/api/v1/chart/data` request the page made (its body, HTTP status, row counts, errors), and a full-page
screenshot OUT_DIR/<slug>.png. Prints one JSON document. Imports neither Superset nor glame_pipelines.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

WIDTH, HEIGHT = 1600, 1200
CHART = '[data-test="dashboard-component-chart-holder"]'
LOADING = '[data-test="loading-indicator"], .loading'
ERRORS = (
    '[data-test="chart-container"] [role="alert"], [data-test="dashboard-component-chart-holder"] '
    '.ant-alert-error, [data-test="dashboard-component-chart-holder"] [data-test="error-alert"]'
)


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("GLAME_CHROMIUM", "/usr/bin/chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        "--lang=ru-RU",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(os.environ.get("GLAME_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    return driver


def log_in(driver: webdriver.Chrome, base_url: str, attempts: int = 3) -> None:
    """Superset's login form, filled and sent; sent again from a fresh page when it is still there 30 s later
    (a CI run on a loaded machine once saw the first submission lost: the page never left /login)."""
    for _ in range(attempts):
        driver.get(f"{base_url}/login/")
        deadline = time.monotonic() + 60
        while not driver.find_elements(By.ID, "username"):
            if "/login" not in driver.current_url:
                return  # the slow earlier submission went through: Superset sends a user who is in elsewhere
            if time.monotonic() > deadline:
                raise TimeoutError("the login form did not appear")
            time.sleep(0.2)
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(os.environ["GLAME_BI_ADMIN_PASSWORD"])
        driver.find_element(By.ID, "password").submit()
        sent = time.monotonic()
        while "/login" in driver.current_url and time.monotonic() - sent < 30:
            time.sleep(0.2)
        if "/login" not in driver.current_url:
            return
    raise TimeoutError(f"login did not complete ({attempts} attempts of 30 s)")


def chart_data_calls(driver: webdriver.Chrome) -> list[dict]:
    """The page's chart-data requests from Chromium's network log, with their bodies."""
    requests, responses = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent" and "/api/v1/chart/data" in params["request"]["url"]:
            requests[params["requestId"]] = params["request"].get("postData")
        elif message["method"] == "Network.responseReceived" and params["requestId"] in requests:
            responses[params["requestId"]] = params["response"]["status"]
    calls = []
    for request_id, body in requests.items():
        call = {"request": json.loads(body) if body else None, "status": responses.get(request_id)}
        try:
            text = driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})["body"]
            result = json.loads(text).get("result", [])
            call["rowcounts"] = [r.get("rowcount") for r in result]
            call["errors"] = [r.get("error") for r in result if r.get("error")] or json.loads(text).get("errors")
        except Exception as error:
            call["errors"] = [f"no response body: {error}"]
        calls.append(call)
    return calls


def settle(driver: webdriver.Chrome, timeout: float, started: float | None = None) -> tuple[float, int]:
    """Wait until charts are present and none has been loading for a second; returns (seconds from `started`
    until the last chart finished, charts). The confirming second is the harness's, not the reader's wait."""
    started = started or time.monotonic()
    quiet_since = None
    while time.monotonic() - started < timeout:
        charts = driver.find_elements(By.CSS_SELECTOR, CHART)
        loading = driver.find_elements(By.CSS_SELECTOR, LOADING)
        if charts and not loading:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 1.0:
                return quiet_since - started, len(charts)
        else:
            quiet_since = None
        time.sleep(0.1)
    return timeout, len(driver.find_elements(By.CSS_SELECTOR, CHART))


def render(driver: webdriver.Chrome, base_url: str, slug: str, out: Path) -> dict:
    driver.get_log("performance")  # drop what earlier pages logged
    started = time.monotonic()
    path, _, query = slug.partition("?")  # a query string may carry filter values (native_filters=…)
    driver.get(f"{base_url}/superset/dashboard/{path}/?standalone=1" + (f"&{query}" if query else ""))
    seconds, charts = settle(driver, timeout=90, started=started)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, max(HEIGHT, height))
    settle(driver, timeout=30)
    errors = [e.text[:300] for e in driver.find_elements(By.CSS_SELECTOR, ERRORS)]
    out.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out / f"{path}{'-filtered' if query else ''}.png"))
    driver.set_window_size(WIDTH, HEIGHT)
    return {
        "slug": slug,
        "seconds": round(seconds, 2),
        "charts": charts,
        "errors": errors,
        "title": driver.title,
        "calls": chart_data_calls(driver),
    }


def main(argv: list[str]) -> int:
    base_url, out, slugs = argv[1], Path(argv[2]), argv[3:]
    driver = browser()
    try:
        log_in(driver, base_url)
        print(json.dumps([render(driver, base_url, slug, out) for slug in slugs], ensure_ascii=False))
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
