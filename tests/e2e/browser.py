"""Headless Chromium (Debian's ``chromium`` + ``chromedriver``) driven by Selenium, offline.

No browser or driver downloads: the driver path is given explicitly and Selenium Manager is
switched off (``SE_OFFLINE``). Raises ``AssertionError`` with a clear message when the Debian
packages are missing (run ``make browser``), so the browser tests fail instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("DATAEFF_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("DATAEFF_CHROMEDRIVER", "/usr/bin/chromedriver"))
STATUS_SELECTOR = '[data-testid="htx-textbox-content"][name^="dataeff_status"]'

_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1100,620",
)  # fmt: skip


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """A Selenium Chrome driver on headless Chromium with a fresh profile in ``profile_dir``
    (emptied first)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        raise AssertionError(f"headless Chromium not installed ({', '.join(missing)} missing): "
                             "run `make browser` (Debian packages chromium, chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"
    shutil.rmtree(profile_dir, ignore_errors=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)  # fmt: skip
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(driver: Any, ls_url: str, email: str, password: str) -> None:
    """Log in through Label Studio's web form (``/user/login/``)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{ls_url}/user/login/")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(ec.url_changes(f"{ls_url}/user/login/"))


def open_label_stream(driver: Any, ls_url: str, project: int, timeout_s: float = 60) -> None:
    """Open the project's labeling view ("Label All Tasks") and wait for the editor."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{ls_url}/projects/{project}/data?labeling=1")
    WebDriverWait(driver, timeout_s).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".lsf-main-view, .lsf-editor"))
    )


def visible_texts(driver: Any, css: str) -> list[str]:
    """The texts of the visible elements matching ``css``."""
    from selenium.webdriver.common.by import By

    elements = driver.find_elements(By.CSS_SELECTOR, css)
    return [e.text for e in elements if e.is_displayed() and e.text.strip()]


def wait_visible_text(driver: Any, css: str, timeout_s: float = 60) -> list[str]:
    """Wait until some element matching ``css`` shows text; return the texts."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        texts = visible_texts(driver, css)
        if texts:
            return texts
        time.sleep(0.5)
    raise AssertionError(f"nothing visible matches {css!r} after {timeout_s:.0f} s")


def close_instructions(driver: Any) -> str:
    """Close the instructions modal if it is open; return the text it showed ('' if none)."""
    from selenium.webdriver.common.by import By

    modals = driver.find_elements(By.CSS_SELECTOR, ".lsf-modal-ls__content")
    shown = [m for m in modals if m.is_displayed()]
    if not shown:
        return ""
    text = str(shown[0].text)
    shown[0].find_element(By.CSS_SELECTOR, "button[aria-label='Close modal']").click()
    return text


def page_text(driver: Any) -> str:
    """All visible text of the page."""
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)
