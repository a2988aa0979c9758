#!/usr/bin/env python3
"""A headless Chromium for the browser tests, driven by Selenium, commanded one JSON line at a time.

The Swift test writes a command on standard input and reads one JSON answer line: {"ok": true, "value": ...} or
{"ok": false, "error": "..."}. Commands:
  {"op": "start", "public": ["127.0.0.1:PORT"], "grant": ["http://127.0.0.1:PORT"]}
      Chromium (Debian's /usr/bin/chromium and chromedriver) headless; each "public" address is made to count as
      public (--ip-address-space-overrides) so that Local Network Access applies for real; each "grant" origin is given
      the loopback-network permission through CDP (Browser.grantPermissions), as a person or an
      administrator would.
  {"op": "open", "url": URL}                 navigate the current tab
  {"op": "tab", "url": URL}                  open a new tab and switch to it
  {"op": "switch", "index": N}               switch to tab N (0 = the first)
  {"op": "click", "selector": CSS}           click an element
  {"op": "wait", "expression": JS, "timeout": S}   poll the expression until it is truthy; answer its value
  {"op": "eval", "expression": JS}           evaluate an expression (a promise is awaited); answer its value
  {"op": "screenshot", "path": PATH}         save the tab as PNG
  {"op": "quit"}
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

driver = None


def answer(ok, value=None, error=None):
    print(json.dumps({"ok": ok, "value": value, "error": error}, ensure_ascii=False), flush=True)


def page_state():
    try:
        return driver.execute_script(
            "return {screen: document.body.dataset.screen || null,"
            " message: document.getElementById('message') && !document.getElementById('message').hidden"
            " ? document.getElementById('message').innerText : null}")
    except Exception as error:  # the page may be gone
        return str(error)


def run(command):
    global driver
    op = command["op"]
    if op == "start":
        options = webdriver.ChromeOptions()
        options.binary_location = command.get("chromium", "/usr/bin/chromium")
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,1000",
                         "--lang=ja", "--disable-gpu", "--no-first-run"]:
            options.add_argument(argument)
        public = command.get("public") or []
        if public:
            options.add_argument("--ip-address-space-overrides=" + ",".join(f"{a}=public" for a in public))
        driver = webdriver.Chrome(service=Service(command.get("driver", "/usr/bin/chromedriver")), options=options)
        driver.set_script_timeout(120)
        for origin in command.get("grant") or []:
            driver.execute_cdp_cmd("Browser.grantPermissions",
                                   {"origin": origin, "permissions": ["loopbackNetwork"]})
        return driver.capabilities.get("browserVersion")
    if op == "open":
        driver.get(command["url"])
        return driver.current_url
    if op == "tab":
        driver.switch_to.new_window("tab")
        driver.get(command["url"])
        return len(driver.window_handles) - 1
    if op == "switch":
        driver.switch_to.window(driver.window_handles[command["index"]])
        return command["index"]
    if op == "click":
        driver.find_element(By.CSS_SELECTOR, command["selector"]).click()
        return None
    if op == "wait":
        deadline = time.monotonic() + command.get("timeout", 30)
        while True:
            value = driver.execute_script("return (" + command["expression"] + ")")
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true in {command.get('timeout', 30)} s: {command['expression']}; "
                                   f"the page: {page_state()}")
            time.sleep(0.1)
    if op == "eval":
        return driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.resolve().then(() => (" + command["expression"] + ")).then(done, e => done('error: ' + e));")
    if op == "screenshot":
        driver.save_screenshot(command["path"])
        return command["path"]
    if op == "quit":
        if driver:
            driver.quit()
        return None
    raise ValueError(f"unknown op {op}")


for line in sys.stdin:
    try:
        command = json.loads(line)
        answer(True, run(command))
        if command.get("op") == "quit":
            break
    except Exception as error:
        answer(False, error=f"{type(error).__name__}: {error}")
if driver:
    try:
        driver.quit()
    except Exception:
        pass
