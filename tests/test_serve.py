"""`seq2text serve`: the real server on a free loopback port, its endpoints, its errors, its
batching, SIGTERM, and the web page in headless Chromium."""

from __future__ import annotations

import contextlib

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from conftest import HANG
from seq2text import Translator
from seq2text.model_folder import bundled_models

ROOT = Path(__file__).resolve().parents[1]


class Server:
    """A ``seq2text serve --port 0`` process and the address it printed."""

    def __init__(self, *arguments: str):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "seq2text", "serve", "--port", "0", *arguments],
                                        cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
        self.log: list[str] = []
        self.url = self._address()
        threading.Thread(target=self._drain, daemon=True).start()  # keep reading, so the pipe never fills

    def _address(self) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.log.append(line)
            if "serving" in line and "http://" in line:
                url = line.split("http://", 1)[1].strip()
                self._wait_until_up("http://" + url)
                return "http://" + url
        pytest.fail("the server did not start:\n" + "".join(self.log))

    def _wait_until_up(self, url: str) -> None:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "/health", timeout=5):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("the server does not answer /health")

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def call(url: str, path: str, body: Any = None, raw: Optional[bytes] = None,
         method: Optional[str] = None) -> tuple[int, Any]:
    """The status and JSON answer of one request (``raw``: bytes sent as they are)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()  # every bundled model, as by default
    yield running
    assert running.stop() == 0


@pytest.mark.slow
def test_serves_every_bundled_model_on_loopback(server: Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    status, answer = call(server.url, "/v1/models")
    assert status == 200
    assert sorted(m["name"] for m in answer["models"]) == sorted(card["name"] for card in bundled_models())
    endpoints = {m["name"]: m["endpoint"] for m in answer["models"]}
    assert endpoints["multi30k-de-en"] == "/v1/translate" and endpoints["poems"] == "/v1/poem"
    assert endpoints["couplet"] == "/v1/couplet" and endpoints["sentiment-zh"] == "/v1/classify"
    assert endpoints["shakespeare-char"] == "/v1/text"
    assert endpoints["pos-en"] == endpoints["pos-lzh"] == "/v1/tag" and endpoints["ci"] == "/v1/poem"
    status, tagged = call(server.url, "/v1/tag", {"texts": ["I can't swim."]})
    assert status == 200 and tagged["model"] == "pos-en"
    assert [(w["word"], w["tag"]) for w in tagged["sentences"][0]["words"]] == [
        ("I", "PRON"), ("ca", "AUX"), ("n't", "PART"), ("swim", "VERB"), (".", "PUNCT")]
    defaults = {m["endpoint"]: m["name"] for m in answer["models"] if m["default"]}
    assert defaults["/v1/poem"] == "poems" and defaults["/v1/couplet"] == "couplet"
    status, health = call(server.url, "/health")
    assert status == 200 and health["status"] == "ok" and sorted(health["models"]) == sorted(endpoints)


@pytest.mark.slow
def test_translate_matches_the_python_api(server: Server) -> None:
    sentences = ["Ein Hund rennt durch den Schnee.", "Zwei Männer spielen Fußball."]
    status, answer = call(server.url, "/v1/translate", {"texts": sentences, "nbest": 3, "attention": True})
    assert status == 200 and answer["model"] == "multi30k-de-en"
    assert [t["text"] for t in answer["translations"]] == Translator.load().translate(sentences)
    first = answer["translations"][0]
    assert len(first["alternatives"]) == 3 and first["alternatives"][0]["text"] == first["text"]
    weights = first["attention"]["weights"]
    assert len(weights) == len(first["attention"]["target"]) and len(weights[0]) == len(first["attention"]["source"])
    assert all(abs(sum(row) - 1) < 0.01 for row in weights)


@pytest.mark.slow
def test_poem_follows_its_form_and_seed(server: Server) -> None:
    request = {"form": "七言绝句", "title": "秋夜", "seed": 11, "n": 2}
    status, answer = call(server.url, "/v1/poem", request)
    assert status == 200 and len(answer["poems"]) == 2
    poem = answer["poems"][0]
    assert all(poem["checks"].values()) and poem["subject"] == "秋夜"
    assert [len(line["tones"]) for line in poem["lines"]] == [7, 7, 7, 7]
    assert poem["lines"][1]["rhyme"] and not poem["lines"][0]["rhyme"]
    assert call(server.url, "/v1/poem", request)[1] == answer  # the same seed, the same poems
    acrostic = call(server.url, "/v1/poem", {"form": "五言绝句", "acrostic": "春夏秋冬", "seed": 3})[1]["poems"][0]
    assert [line["text"][0] for line in acrostic["lines"]] == list("春夏秋冬")


@pytest.mark.slow
def test_ci_by_tune_and_revision_over_http(server: Server) -> None:
    status, forms = call(server.url, "/v1/poem/forms")
    assert status == 200 and {"form": "浣溪沙", "model": "ci"}.items() <= next(
        f for f in forms["forms"] if f["form"] == "浣溪沙").items()
    status, answer = call(server.url, "/v1/poem", {"form": "浣溪沙", "title": "春日", "seed": 2})
    assert status == 200 and answer["model"] == "ci"  # the served model that writes the tune
    poem = answer["poems"][0]
    assert all(poem["checks"].values()) and [len(line["text"]) for line in poem["lines"]] == [8] * 6
    body = {"poem": poem["text"], "form": "浣溪沙", "line": 2, "title": "春日", "n": 3, "seed": 1}
    status, revised = call(server.url, "/v1/poem/revise", body)
    assert status == 200 and 1 <= len(revised["poems"]) <= 3
    for version in revised["poems"]:
        kept = [line["text"] for number, line in enumerate(version["lines"]) if number != 1]
        assert kept == [line["text"] for number, line in enumerate(poem["lines"]) if number != 1]
        assert version["lines"][1]["text"] != poem["lines"][1]["text"] and all(version["checks"].values())
    status, error = call(server.url, "/v1/poem/revise", {**body, "line": 7})
    assert status == 422 and "line" in error["error"]
    status, error = call(server.url, "/v1/poem/revise", {**body, "poem": "春风"})
    assert status == 422 and "浣溪沙" in error["error"]


@pytest.mark.slow
def test_couplet_and_classify_and_text(server: Server) -> None:
    status, answer = call(server.url, "/v1/couplet", {"first": ["海阔凭鱼跃", "春风得意"], "n": 2})
    assert status == 200 and [len(answers) for answers in answer["couplets"]] == [2, 2]
    assert [len(answers[0]["second"]) for answers in answer["couplets"]] == [5, 4]
    assert all(answers[0]["checks"]["level_ending"] for answers in answer["couplets"])
    assert answer["couplets"][0][0]["first"] == "海阔凭鱼跃"
    # the same record as `generate --form couplet --format jsonl` prints
    jsonl = subprocess.run([sys.executable, "-m", "seq2text", "generate", "--form", "couplet", "--first-line",
                            "海阔凭鱼跃", "--format", "jsonl"], capture_output=True, text=True, timeout=HANG)
    assert set(json.loads(jsonl.stdout)) == set(answer["couplets"][0][0])
    status, answer = call(server.url, "/v1/classify", {"texts": ["质量很好，非常满意", "太差了，再也不买了"],
                                                       "attention": True})
    assert status == 200 and [p["label"] for p in answer["predictions"]] == ["positive", "negative"]
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-3 for p in answer["predictions"])
    first = answer["predictions"][0]["attention"]
    assert len(first["tokens"]) == len(first["weights"]) == 9
    status, answer = call(server.url, "/v1/text", {"prompt": "ROMEO:", "length": 40, "seed": 2})
    assert status == 200 and answer["texts"][0]["text"].startswith("ROMEO:") and answer["texts"][0]["seed"] == 2


BAD_REQUESTS = [  # (path, body, status, a part of the error)
    ("/v1/translate", {"texts": ["Ein Hund."], "model": "../runs/x"}, 422, "not served here"),
    ("/v1/translate", {"texts": ["Ein Hund."], "model": "/etc/passwd"}, 422, "not served here"),
    ("/v1/translate", {"texts": ["Ein Hund."], "model": "poems"}, 422, "answers /v1/poem"),
    ("/v1/translate", {"texts": ["Ein Hund."], "beam": 3}, 422, "beam: Extra inputs"),
    ("/v1/translate", {"texts": []}, 422, "texts:"),
    ("/v1/translate", {"texts": ["Hund"] * 33}, 422, "texts:"),
    ("/v1/translate", {"texts": ["a" * 1001]}, 422, "texts.0:"),
    ("/v1/translate", {"texts": ["Ein Hund."], "beam_size": 2, "nbest": 3}, 422, "nbest 3 needs beam_size of at least 3"),
    ("/v1/translate", {"texts": ["Ein Hund."], "beam_size": 0}, 422, "beam_size:"),
    ("/v1/poem", {"form": "sonnet"}, 422, "form 'sonnet': unknown form"),
    ("/v1/poem", {"acrostic": "春夏"}, 422, "acrostic '春夏'"),
    ("/v1/poem", {"title": "ab"}, 422, "title 'ab': only Han characters"),
    ("/v1/poem", {"title": "秋夜", "keywords": ["明月"] * 8}, 422, "title and keywords: "),
    ("/v1/poem", {"top_p": 0}, 422, "top_p:"),
    ("/v1/poem", {"temperature": 1e-300}, 422, "temperature 1e-300: not 0 (greedy) or in [0.01, 100]"),
    ("/v1/text", {"prompt": "A", "top_p": 0}, 422, "top_p:"),
    ("/v1/text", {"prompt": "A", "temperature": 1e-40}, 422, "temperature 1e-40"),
    ("/v1/couplet", {"first": ["海阔凭鱼跃"], "beam_size": 1, "top_p": 0}, 422, "top_p:"),
    ("/v1/couplet", {"first": ["海阔凭鱼跃"], "beam_size": 1, "temperature": 1e-39}, 422, "temperature"),
    ("/v1/translate", {"texts": ["Ein Hund."], "beam_size": "5"}, 422, "beam_size: Input should be a valid integer"),
    ("/v1/translate", {"texts": ["Ein Hund."], "beam_size": True}, 422, "beam_size: Input should be a valid integer"),
    ("/v1/translate", {"texts": ["Ein Hund."], "attention": "yes"}, 422, "attention: Input should be a valid boolean"),
    ("/v1/poem", {"n": 1000}, 422, "n:"),
    ("/v1/poem", {"temperature": "hot"}, 422, "temperature:"),
    ("/v1/couplet", {"first": ["Hello"]}, 422, "first[0]"),
    ("/v1/couplet", {"first": ["  "]}, 422, "empty"),
    ("/v1/classify", {"texts": [""]}, 422, "empty"),
    ("/v1/classify", ["not", "an", "object"], 422, "body"),
    ("/v1/nothing", {}, 404, "Not Found"),
]


@pytest.mark.slow
@pytest.mark.parametrize("path, body, status, message", BAD_REQUESTS)
def test_bad_requests_get_a_json_error(server: Server, path: str, body: Any, status: int, message: str) -> None:
    got, answer = call(server.url, path, body)
    assert got == status and message in answer["error"], answer
    assert "--" not in answer["error"], answer  # the API names its fields, not command-line flags


@pytest.mark.slow
def test_bodies_that_are_too_large_or_not_json(server: Server) -> None:
    status, answer = call(server.url, "/v1/classify", raw=json.dumps({"texts": ["好" * 900] * 30}).encode())
    assert status == 413 and "over 65536 bytes" in answer["error"]
    status, answer = call(server.url, "/v1/classify", raw=b'{"texts": [')
    assert status == 422 and answer["error"].startswith("body: not valid JSON")
    assert call(server.url, "/v1/classify", method="GET")[0] == 405


@pytest.mark.slow
def test_concurrent_requests_share_batches(server: Server) -> None:
    sentences = [f"Ein Mann mit {n} Hunden läuft im Park." for n in range(2, 26)]
    alone = [call(server.url, "/v1/translate", {"texts": [s]})[1]["translations"][0]["text"] for s in sentences[:3]]
    before = call(server.url, "/health")[1]["batches"]["multi30k-de-en"]
    with ThreadPoolExecutor(len(sentences)) as pool:
        answers = list(pool.map(lambda s: call(server.url, "/v1/translate", {"texts": [s]}), sentences))
    batches = call(server.url, "/health")[1]["batches"]["multi30k-de-en"] - before
    assert all(status == 200 for status, _ in answers)
    assert [a["translations"][0]["text"] for _, a in answers[:3]] == alone  # batching changes no output
    assert batches < len(sentences), f"{len(sentences)} requests took {batches} batches"


@pytest.mark.slow
def test_work_for_clients_that_hang_up_is_dropped(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"form": "七言律诗", "n": 5, "beam_size": 4}).encode()
    dropped = call(server.url, "/health")[1]["dropped"]["poems"]
    for _ in range(4):
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(b"POST /v1/poem HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n" % len(body) + body)
            time.sleep(0.05)
    status, answer = call(server.url, "/v1/couplet", {"first": ["海阔凭鱼跃"]})
    assert status == 200 and answer["couplets"][0][0]["second"]
    for _ in range(100):  # the first poem is decoded (it had started); the three behind it never are
        if call(server.url, "/health")[1]["dropped"]["poems"] - dropped >= 3:
            break
        time.sleep(0.2)
    assert call(server.url, "/health")[1]["dropped"]["poems"] - dropped >= 3


@pytest.mark.slow
def test_other_host_names_are_refused(server: Server) -> None:
    request = urllib.request.Request(server.url + "/v1/classify", data=json.dumps({"texts": ["好"]}).encode(),
                                     headers={"content-type": "application/json", "host": "rebound.example:80"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400 and "rebound.example" in json.loads(refused.value.read())["error"]


@pytest.mark.slow
def test_idle_and_slow_connections_are_closed() -> None:
    running = Server("-m", "sentiment-zh", "--header-timeout", "1", "--max-connections", "20")
    host, port = running.url.removeprefix("http://").split(":")
    connections = [socket.create_connection((host, int(port))) for _ in range(40)]
    connections[0].sendall(b"GET /health HTTP/1.1\r\nHo")  # a head that never ends
    started = time.monotonic()
    for connection in connections:
        connection.settimeout(30)
        assert connection.recv(100) == b""  # closed: at once over the cap, else after the timeout
        connection.close()
    assert time.monotonic() - started < 20
    assert call(running.url, "/health")[0] == 200
    assert running.stop() == 0


@pytest.mark.slow
def test_slow_and_idle_bodies_are_closed() -> None:
    """A body trickled a byte at a time, or never sent, loses its connection within the body
    timeout, and other clients are answered meanwhile."""
    running = Server("-m", "sentiment-zh", "--body-timeout", "2", "--max-connections", "30")
    host, port = running.url.removeprefix("http://").split(":")
    head = (b"POST /v1/classify HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 60000\r\n\r\n")
    slow = [socket.create_connection((host, int(port))) for _ in range(25)]
    started = time.monotonic()
    for number, connection in enumerate(slow):
        connection.sendall(head + (b"{" if number % 2 else b""))  # odd ones trickle, even ones idle
        connection.settimeout(30)
    for _ in range(3):
        assert call(running.url, "/health")[0] == 200
        for connection in slow[1::2]:
            with contextlib.suppress(OSError):
                connection.sendall(b" ")
        time.sleep(0.5)
    for connection in slow:
        with contextlib.suppress(ConnectionResetError):  # closed: reset or an orderly end
            assert connection.recv(100) == b""
        connection.close()
    assert time.monotonic() - started < 15
    assert running.stop() == 0


def test_host_headers_are_parsed_strictly() -> None:
    from seq2text.server.app import _host_name

    assert [_host_name(h) for h in ("localhost", "LOCALHOST:8000", "[::1]:8765", "127.0.0.1")] == \
        ["localhost", "localhost", "::1", "127.0.0.1"]
    for hostile in ("localhost:evil.com", "127.0.0.1:8765@evil.com", "localhost:99999", "localhost:", "a b",
                    "localhost/x", "[::1]evil.com"):
        assert _host_name(hostile) == "", hostile


def test_the_accept_error_is_logged_once_a_minute() -> None:
    import logging

    from seq2text.server.connections import OncePerMinute

    flood = OncePerMinute("out of system resource")
    records = [logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "socket.accept() out of system resource",
                                 (), None) for _ in range(100)]
    assert sum(flood.filter(record) for record in records) == 1
    assert flood.filter(logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "other", (), None))


@pytest.mark.slow
def test_an_empty_host_is_refused_and_other_interfaces_warned(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "seq2text", "serve", "--host", "", "-m", "sentiment-zh"],
                            cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert result.returncode == 2 and result.stderr.startswith("error: --host ''") and result.stderr.count("\n") == 1
    running = Server("-m", "sentiment-zh", "--host", "0.0.0.0", "--allow-host", "0.0.0.0")
    assert any("warning: listening on 0.0.0.0" in line and "--allow-host" in line for line in running.log)
    assert running.stop() == 0


@pytest.mark.slow
def test_sigterm_answers_the_requests_in_flight_then_exits_0() -> None:
    running = Server("-m", "poems")
    assert [m["name"] for m in call(running.url, "/v1/models")[1]["models"]] == ["poems"]
    status, answer = call(running.url, "/v1/translate", {"texts": ["Ein Hund."]})
    assert status == 404 and answer["error"] == "no served model answers /v1/translate"
    request = {"form": "七言律诗", "n": 8, "seed": 1}  # about a second each, decoded one after the other
    with ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(call, running.url, "/v1/poem", request) for _ in range(3)]
        time.sleep(0.5)  # the first is being decoded, the others wait in the queue
        assert call(running.url, "/health")[0] == 200 and not pending[-1].done()  # decoding never blocks the loop
        assert running.stop() == 0
        answers = [future.result(timeout=60) for future in pending]
    assert [status for status, _ in answers] == [200, 200, 200]
    assert all(len(answer["poems"]) == 8 for _, answer in answers)
    assert any("Waiting for connections to close" in line for line in running.log)


@pytest.mark.slow
def test_sigterm_answers_what_still_waits_after_the_drain_with_503() -> None:
    running = Server("-m", "poems", "--drain", "1")
    request = {"form": "七言律诗", "n": 10, "seed": 1}
    with ThreadPoolExecutor(4) as pool:
        pending = [pool.submit(call, running.url, "/v1/poem", request) for _ in range(4)]
        time.sleep(0.5)
        assert running.stop() == 0
        answers = [future.result(timeout=60) for future in pending]
    statuses = sorted(status for status, _ in answers)
    assert 503 in statuses and set(statuses) <= {200, 503}, answers
    assert all(answer["error"] == "the server is shutting down; try again later"
               for status, answer in answers if status == 503)
    assert any("answered 503" in line for line in running.log)


@pytest.mark.slow
def test_a_taken_port_is_a_one_line_error(server: Server) -> None:
    port = server.url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "seq2text", "serve", "--port", port, "-m", "sentiment-zh"],
                            cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert result.returncode == 2 and "cannot listen" in result.stderr and "Traceback" not in result.stderr


# --- the web page, in headless Chromium ------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.fail("chromedriver is missing: install Debian's chromium-driver package (.ci/run does)")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(390, 844)  # a phone's width
    yield driver
    driver.quit()


def _open(browser: Any, server: Server) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))


@pytest.mark.slow
def test_page_translates_with_a_heat_map(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    tabs = [tab.text for tab in browser.find_elements(By.CSS_SELECTOR, "nav button")]
    assert tabs == ["Translate", "Poem 诗", "Couplet 对联", "Classify", "Tag", "Free text"]
    box = browser.find_element(By.ID, "translate-text")
    box.clear()
    box.send_keys("Ein Hund rennt durch den Schnee.")
    browser.find_element(By.ID, "translate-attention").send_keys(Keys.SPACE)  # the keyboard ticks the box
    browser.find_element(By.ID, "translate-beam").send_keys(Keys.ENTER)  # and submits the form
    image = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "img.heatmap"))[0]
    expected = Translator.load().translate("Ein Hund rennt durch den Schnee.")
    assert browser.find_element(By.CSS_SELECTOR, "#translate-result .translation").text == expected
    size = browser.execute_script("const i = arguments[0]; return [i.naturalWidth, i.naturalHeight, i.complete]",
                                  image)
    assert size[0] > 100 and size[1] > 100 and size[2]
    shades = browser.execute_script(  # the cells are shaded by weight: many distinct colours
        "const i = arguments[0], c = document.createElement('canvas'); c.width = i.naturalWidth;"
        "c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);"
        "const d = g.getImageData(0, 0, c.width, c.height).data, seen = new Set();"
        "for (let k = 0; k < d.length; k += 4) if (d[k] === d[k + 1] && d[k + 2] === 255) seen.add(d[k]);"
        "return seen.size;", image)
    assert shades > 10


@pytest.mark.slow
def test_page_writes_a_poem_rewrites_a_line_and_writes_ci(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def verses(d: Any) -> list[str]:
        return [v.text for v in d.find_elements(By.CSS_SELECTOR, "#poem-result .verse")]

    _open(browser, server)
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='poem']").click()
    browser.find_element(By.ID, "poem-title").send_keys("秋夜")
    browser.find_element(By.ID, "poem-seed").send_keys("5")
    browser.find_element(By.CSS_SELECTOR, "#poem-form button.go").click()
    before = WebDriverWait(browser, 60).until(lambda d: verses(d) if len(verses(d)) == 4 else None)
    assert all(len(line) == 8 for line in before)  # 七言绝句: 7 characters and a mark
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#poem-result .line .marks")]
    assert len(marks[0]) == 7 and set(marks[0]) <= set("平仄·") and "韵" in marks[1]
    badges = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#poem-result .badge")]
    assert "✓ rhyme" in badges and "✓ tones" in badges
    assert "平 level, 仄 oblique" in browser.find_element(By.CSS_SELECTOR, "#poem-result .legend").text
    lefts = browser.execute_script("return [...document.querySelectorAll('#poem-result button.revise')]"
                                   ".map(b => b.getBoundingClientRect().left)")
    assert len(lefts) == 4 and max(lefts) - min(lefts) < 1  # the 改 buttons stand in one column
    browser.find_elements(By.CSS_SELECTOR, "#poem-result button.revise")[1].click()  # "rewrite this line"
    candidates = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.candidate"))
    chosen = candidates[0].text
    assert len(candidates) <= 5 and all(len(c.text) == 8 and c.text != before[1] for c in candidates)
    candidates[0].click()
    after = WebDriverWait(browser, 30).until(lambda d: verses(d) if verses(d) != before else None)
    assert after == [before[0], chosen, *before[2:]]
    badges = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#poem-result .badge")]
    assert "✓ rhyme" in badges and "✓ tones" in badges
    Select(browser.find_element(By.ID, "poem-form-name")).select_by_value("浣溪沙")  # a tune: the ci model
    model = browser.find_element(By.ID, "poem-model")
    assert model.get_attribute("value") == "ci" and not model.is_enabled()  # the model that answers is shown
    browser.find_element(By.CSS_SELECTOR, "#poem-form button.go").click()
    lines = WebDriverWait(browser, 60).until(lambda d: verses(d) if len(verses(d)) == 6 else None)
    assert all(len(line) == 8 for line in lines)
    lefts = browser.execute_script("return [...document.querySelectorAll('#poem-result button.revise')]"
                                   ".map(b => b.getBoundingClientRect().left)")
    assert len(lefts) == 6 and max(lefts) - min(lefts) < 1
    Select(browser.find_element(By.ID, "poem-form-name")).select_by_index(0)  # a poem form again: the box is free
    assert model.is_enabled() and model.get_attribute("value") != "ci"


@pytest.mark.slow
def test_page_answers_a_couplet_classifies_and_tags(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server)
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='couplet']").click()
    browser.find_element(By.CSS_SELECTOR, "#couplet-form button.go").click()
    seconds = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#couplet-result .second"))
    assert len(seconds) == 3 and all(len(s.text) == 5 for s in seconds)
    first = browser.find_element(By.ID, "couplet-first")
    first.clear()
    first.send_keys("Hello\n")
    error = WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#couplet-result .error"))
    assert error[0].text.startswith("上联 'Hello'") and "first[0]" not in error[0].text  # the page's names
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='classify']").click()
    browser.find_element(By.CSS_SELECTOR, "#classify-form button.go").click()
    labels = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#classify-result .label"))
    assert [label.text for label in labels] == ["positive", "negative"]
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='tag']").click()
    browser.find_element(By.CSS_SELECTOR, "#tag-form button.go").click()
    sentences = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#tag-result .tagged"))
    assert len(sentences) == 2
    words = sentences[0].find_elements(By.CSS_SELECTOR, ".word")
    assert [w.find_element(By.CSS_SELECTOR, ".tag").text for w in words[:3]] == ["PRON", "AUX", "PART"]
