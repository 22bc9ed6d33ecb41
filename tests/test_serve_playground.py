"""The playground page in a real browser: Debian's chromium, headless, driven by selenium.

Needs `chromium` and `chromium-driver` (Debian packages): the tests skip without them, unless
LITE_REQUIRE_BROWSER=1 (.ci/run sets it, after installing them) turns the skip into a failure. The
page is served by the real service; its results are compared with the library's on the same text.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import lite
from tests.serve_support import running

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")
REQUIRE_BROWSER = "LITE_REQUIRE_BROWSER"  # "1": a missing browser fails the tests instead of skipping them (CI)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        reason = ("no chromium or chromedriver on PATH: the playground test needs Debian's chromium and "
                  "chromium-driver (apt-get install -y chromium chromium-driver)")
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{reason}; {REQUIRE_BROWSER}=1 requires them")
        pytest.skip(reason)
    options = Options()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page_url(smollm2_slice):
    """The service with a default rate of 0.7 and cl100k_base as its target tokenizer."""
    from lite.prune.target import target_tokenizer

    targets = {"cl100k_base": target_tokenizer("cl100k_base")}
    with running(lite.load(smollm2_slice, threads=1), rate=0.7, target_tokenizers=targets,
                 target_tokenizer="cl100k_base") as client:
        yield str(client.base_url)


def wait_until_ready(browser) -> None:
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
                                     == "true")


def wait_for_result(browser, rate: str, expected_text: str) -> None:
    def done(driver) -> bool:
        return driver.execute_script(
            "const r = document.getElementById('result');"
            "return r.dataset.rate === arguments[0] && r.textContent === arguments[1] &&"
            " document.getElementById('status').dataset.state === 'idle';", rate, expected_text)

    WebDriverWait(browser, 60, poll_frequency=0.1).until(done, f"no result at rate {rate}")


def shown(browser) -> dict:
    return browser.execute_script("""
        const text = (id) => document.getElementById(id).textContent;
        const dels = [...document.querySelectorAll('#result del')];
        return {origin: text('origin-tokens'), compressed: text('compressed-tokens'),
                dropped: dels.map((d) => d.textContent),
                struck: dels.every((d) => getComputedStyle(d).textDecorationLine.includes('line-through')),
                pruned: text('pruned'), rate: text('rate-value'), error: text('error'),
                target: [text('target-origin-tokens'), text('target-compressed-tokens')]};
    """)


def test_type_text_move_the_slider_read_the_result(browser, page_url, smollm2_slice, mgsm, tmp_path):
    pruner = lite.load(smollm2_slice, threads=1)
    text = mgsm.exemplars("en")[1]
    browser.get(page_url)
    wait_until_ready(browser)
    assert browser.find_element(By.ID, "rate").get_attribute("value") == "0.7"  # the server's default rate
    assert not browser.find_element(By.ID, "key-row").is_displayed()  # no key asked of this server

    browser.find_element(By.ID, "input").send_keys(text)  # typed key by key, as a person would
    wait_for_result(browser, "0.70", text)
    expected = pruner.prune(text, rate=0.7, target_tokenizer="cl100k_base")
    seen = shown(browser)
    assert (seen["origin"], seen["compressed"]) == (str(expected.origin_tokens), str(expected.compressed_tokens))
    assert seen["target"] == [str(expected.target_origin_tokens), str(expected.target_compressed_tokens)]
    assert seen["dropped"] == [piece for piece, kept in expected.pieces if not kept] and seen["struck"]
    assert seen["pruned"] == expected.text and seen["error"] == ""

    slider = browser.find_element(By.ID, "rate")
    for _ in range(4):
        slider.send_keys(Keys.ARROW_LEFT)  # 0.70 -> 0.50 in steps of 0.05
    wait_for_result(browser, "0.50", text)
    expected = pruner.prune(text, rate=0.5, target_tokenizer="cl100k_base")
    seen = shown(browser)
    assert seen["rate"] == "0.50"
    assert (seen["origin"], seen["compressed"]) == (str(expected.origin_tokens), str(expected.compressed_tokens))
    assert seen["target"] == [str(expected.target_origin_tokens), str(expected.target_compressed_tokens)]
    assert seen["dropped"] == [piece for piece, kept in expected.pieces if not kept]
    assert seen["pruned"] == expected.text
    screenshot = tmp_path / "playground.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


def test_a_bad_chat_shows_an_error_not_a_result(browser, page_url):
    browser.get(page_url)
    wait_until_ready(browser)
    browser.find_element(By.ID, "mode-chat").click()
    browser.find_element(By.ID, "input").send_keys('[{"role": "user", "content": ')  # not JSON yet
    WebDriverWait(browser, 30).until(lambda d: "not valid JSON" in d.find_element(By.ID, "error").text)
    assert browser.find_element(By.ID, "result").text == ""


def test_paste_a_chat_and_see_each_message_pruned(browser, page_url, smollm2_slice, mgsm, tmp_path):
    pruner = lite.load(smollm2_slice, threads=1)
    shot_q, shot_a = mgsm.exemplars("en")[0].split("\n", 1)
    messages = [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": shot_q},
                {"role": "assistant", "content": shot_a}, {"role": "user", "content": mgsm.questions("en")[1][0]}]
    browser.get(page_url)
    wait_until_ready(browser)
    browser.find_element(By.ID, "mode-chat").click()
    browser.find_element(By.ID, "input").send_keys(json.dumps(messages))
    expected = pruner.prune_messages(messages, rate=0.7, target_tokenizer="cl100k_base")
    WebDriverWait(browser, 60, poll_frequency=0.1).until(
        lambda d: d.find_element(By.ID, "compressed-tokens").text == str(expected.compressed_tokens)
        and d.find_element(By.ID, "status").get_attribute("data-state") == "idle")
    blocks = browser.execute_script("""
        return [...document.querySelectorAll('#result .message')].map((m) => ({
            role: m.querySelector('.role').textContent,
            all: m.textContent.slice(m.querySelector('.role').textContent.length),
            kept: [...m.childNodes].slice(1).filter((n) => n.nodeName !== 'DEL').map((n) => n.textContent).join(''),
            dropped: m.querySelectorAll('del').length}));
    """)
    assert [b["role"] for b in blocks] == [m["role"] for m in messages]
    for block, before, after in zip(blocks, messages, expected.messages):
        assert block["all"] == before["content"] and block["kept"] == after["content"]
    assert blocks[0]["dropped"] == 0 and blocks[-1]["dropped"] == 0  # the system prompt and the question: whole
    assert blocks[1]["dropped"] > 0 and blocks[2]["dropped"] > 0
    assert browser.find_element(By.ID, "origin-tokens").text == str(expected.origin_tokens)
    assert browser.find_element(By.ID, "target-compressed-tokens").text == str(expected.target_compressed_tokens)
    browser.save_screenshot(str(tmp_path / "playground-chat.png"))


def test_a_server_with_a_key_asks_for_it(browser, smollm2_slice):
    with running(lite.load(smollm2_slice, threads=1), rate=0.5, api_key="page-key") as client:
        browser.get(str(client.base_url))
        wait_until_ready(browser)
        assert browser.find_element(By.ID, "key-row").is_displayed()
        browser.find_element(By.ID, "input").send_keys("Five more computers were installed each day.")
        WebDriverWait(browser, 30).until(lambda d: "API key" in d.find_element(By.ID, "error").text)
        browser.find_element(By.ID, "key").send_keys("page-key")
        browser.find_element(By.ID, "rate").click()  # leaves the key field: its change event sends again
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "origin-tokens").text != "–")
        assert browser.find_element(By.ID, "error").text == ""
