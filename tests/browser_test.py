#!/usr/bin/env python3
"""browser_test.py PORT SCREENSHOT -- the chat page of `gemma4 serve` in headless Chromium (Debian's chromium
+ chromium-driver, driven by selenium from PyPI): it loads, an image attaches, a message gets a streamed
reply with a tokens/s line, the stop button ends a running reply; a screenshot is saved."""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

port, shot = sys.argv[1], sys.argv[2]
o = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,800"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def wait_for(fn, secs=30):
    t = time.time() + secs
    while time.time() < t:
        try:
            if fn():
                return True
        except Exception:  # noqa: BLE001 -- element not there yet
            pass
        time.sleep(0.2)
    return False


try:
    d.get("http://127.0.0.1:%s/" % port)
    check(wait_for(lambda: d.find_element(By.ID, "model").text.strip() != ""), "page loads and names the model")
    d.find_element(By.ID, "file").send_keys(__import__("os").path.abspath("tests/data/mm/cat.png"))
    check(wait_for(lambda: "cat.png" in d.find_element(By.ID, "files").text), "an image attaches")
    d.find_element(By.ID, "in").send_keys("Hello there")
    d.find_element(By.ID, "send").click()
    check(wait_for(lambda: "t/s" in d.find_element(By.ID, "stats").text or "tok" in d.find_element(By.ID, "stats").text),
          "the reply streams and tokens/s is shown")
    msgs = d.find_elements(By.CSS_SELECTOR, ".msg")
    check(len(msgs) >= 2 and any(m.find_elements(By.TAG_NAME, "img") for m in msgs), "the user message shows the image")
    d.find_element(By.ID, "in").send_keys("Again")
    d.find_element(By.ID, "send").click()
    time.sleep(0.3)
    d.find_element(By.ID, "stop").click()
    check(wait_for(lambda: d.find_element(By.ID, "send").get_attribute("disabled") is None, 15), "stop ends the reply")
    d.save_screenshot(shot)
    errors = [entry for entry in d.get_log("browser") if entry.get("level") == "SEVERE"]
    check(not errors, "no JavaScript errors: %s" % errors[:2])
finally:
    d.quit()
sys.exit(1 if fails else 0)
