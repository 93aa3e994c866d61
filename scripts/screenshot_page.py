#!/usr/bin/env python3
"""The README's picture of the web page: `seq2text serve` in headless Chromium, a translation
with its attention heat-map beside a poem with its checks.

    python scripts/screenshot_page.py [--out docs]   # writes serve.png and serve-poem.png

Needs Debian's chromium and chromium-driver (as tests/test_serve.py does).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the pictures [docs]")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "seq2text", "serve", "--port", "0", "-m", "multi30k-de-en",
                               "-m", "poems", "-m", "couplet", "-m", "sentiment-zh", "-m", "shakespeare-char"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    url = next(line for line in server.stderr if "http://" in line).split("on ", 1)[1].strip()
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.set_window_size(900, 760)
        driver.get(url + "/")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
        driver.find_element(By.ID, "translate-attention").click()
        driver.find_element(By.CSS_SELECTOR, "#translate-form button.go").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "img.heatmap"))
        args.out.mkdir(parents=True, exist_ok=True)
        time.sleep(0.5)
        driver.save_screenshot(str(args.out / "serve.png"))
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab='poem']").click()
        driver.find_element(By.ID, "poem-title").send_keys("秋夜")
        driver.find_element(By.ID, "poem-seed").send_keys("5")
        driver.find_element(By.CSS_SELECTOR, "#poem-form button.go").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#poem-result .verse"))
        time.sleep(0.5)
        driver.save_screenshot(str(args.out / "serve-poem.png"))
        print(args.out / "serve.png", args.out / "serve-poem.png")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
