"""Headless Chromium for Masthead's browser checks (a11y-check, admin-browser-check).

Only Debian's chromium and chromium-driver and pip's selenium can be installed on
our machines, so both binaries are found on PATH (or through MASTHEAD_CHROMIUM
and MASTHEAD_CHROMEDRIVER) and selenium is never allowed to download anything.
"""

import os
import shutil


class BrowserUnavailable(Exception):
    """The browser, its driver or selenium is missing or would not start."""


def find_binary(env_var, name):
    value = os.environ.get(env_var)
    if value:
        resolved = shutil.which(value)  # accepts a path or a bare name
        if not resolved:
            raise BrowserUnavailable(f"{env_var}={value} is not an executable")
        return resolved
    resolved = shutil.which(name)
    if not resolved:
        raise BrowserUnavailable(f"{name} not found (install it, or set {env_var})")
    return resolved


def start_browser(window="1280,1024"):
    """A headless Chromium driven by selenium, with generous timeouts."""
    chromium = find_binary("MASTHEAD_CHROMIUM", "chromium")
    chromedriver = find_binary("MASTHEAD_CHROMEDRIVER", "chromedriver")
    os.environ.setdefault("SE_OFFLINE", "true")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserUnavailable("python package selenium is not installed (pip install selenium)")

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    # --disable-dev-shm-usage: /dev/shm is small in containers.
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", f"--window-size={window}", "--lang=en-US"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(options=options,
                                  service=Service(executable_path=chromedriver))
    except Exception as e:  # WebDriverException, OSError, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BrowserUnavailable(f"could not start {chromium} via {chromedriver}: {first}")
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)
    return driver
