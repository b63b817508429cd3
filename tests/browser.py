"""The studio in a real browser: the server run in a thread, and Debian's headless Chromium driven by Selenium."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from audiodrama.studio.server import listen, server
from audiodrama.studio.session import Studio

INSTALL = "apt-get install -y chromium chromium-driver (Debian/Ubuntu), then run the tests again"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--mute-audio")


@contextmanager
def running(studio: Studio) -> Iterator[str]:
    """The studio served on a free port of 127.0.0.1 while the block runs; yields the address with its token."""
    sock = listen(0)
    web, url = server(studio, sock)
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield url
    finally:
        web.should_exit = True
        thread.join(20)
        sock.close()


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[object]:
    """Headless Chromium under Selenium; the test fails, saying what to install, when either is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: pip install -e '.[test]'")
    binary = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.fail(f"the browser tests need Chromium and its driver: {INSTALL}")
    with tempfile.TemporaryDirectory(prefix="studio-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()
