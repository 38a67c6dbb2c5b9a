"""The web console in a real headless browser (Debian's chromium through chromedriver):
each page renders with the broker's real data, the message browser finds a record by
offset and by key, the throughput chart grows while records flow. Screenshots of every
page are kept in $CREEK_ARTIFACTS (default compat/artifacts/console)."""
import os
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(os.environ.get("CREEK_ARTIFACTS", Path(__file__).parent / "artifacts" / "console"))


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def wait_for(driver, css, predicate=lambda elements: elements, timeout=15):
    """The elements matching `css` once `predicate` holds for them (a view re-rendered
    meanwhile makes the check run again)."""
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: predicate(d.find_elements(By.CSS_SELECTOR, css)) and d.find_elements(By.CSS_SELECTOR, css))


def shoot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def seed(creek):
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    admin.create_topics([NewTopic("orders", 3, 1, config={"retention.ms": "86400000"}), NewTopic("audit", 1, 1)])["orders"].result(30)
    producer = Producer({"bootstrap.servers": creek.bootstrap, "linger.ms": 5})
    for i in range(90):
        producer.produce("orders", key=f"customer-{i % 5}".encode(), value=f'{{"order": {i}, "total": {i * 10}}}'.encode(),
                         partition=i % 3, headers=[("source", b"web")])
    producer.produce("audit", key=b"bin", value=bytes(range(0, 256, 17)), partition=0)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "billing", "enable.auto.commit": False})
    consumer.assign([TopicPartition("orders", p, 0) for p in range(3)])
    for _ in range(3):
        consumer.poll(5)
    consumer.commit(offsets=[TopicPartition("orders", p, 20) for p in range(3)], asynchronous=False)
    consumer.close()


def test_console_pages_render_real_data(creek, browser):
    seed(creek)
    browser.get(creek.http + "/")
    cards = wait_for(browser, ".card .value", lambda cards: len(cards) >= 10)
    labels = [label.text for label in browser.find_elements(By.CSS_SELECTOR, ".card .label")]
    values = dict(zip(labels, (card.text for card in cards)))
    assert values["TOPICS"] == "2" and values["PARTITIONS"] == "4" and values["CONSUMER GROUPS"] == "1"
    assert values["KAFKA LISTENER"] == creek.bootstrap and values["RECORDS IN"] == "91"
    # One broker on the local engine: it leads the four partitions and has no lease.
    brokers = wait_for(browser, "#brokers tbody tr[data-node]")
    assert len(brokers) == 1 and brokers[0].text.split()[-2:] == ["4", "—"], brokers[0].text
    shoot(browser, "overview")

    browser.get(creek.http + "/#/topics")
    # The two seeded topics, and Kafka's internal __consumer_offsets (created with the group),
    # listed and marked internal.
    rows = wait_for(browser, "#topics tbody tr[data-topic]", lambda rows: len(rows) == 3)
    internal = next(row for row in rows if row.get_attribute("data-topic") == "__consumer_offsets").text
    assert "internal" in internal
    orders = next(row for row in rows if row.get_attribute("data-topic") == "orders").text
    assert "orders" in orders and " 3 " in f" {orders} " and "90" in orders and "24 h" in orders
    shoot(browser, "topics")

    browser.get(creek.http + "/#/topics/orders")
    partitions = wait_for(browser, "#partitions tbody tr", lambda rows: len(rows) == 3)
    assert [cell.text for cell in partitions[1].find_elements(By.TAG_NAME, "td")][:3] == ["1", "0", "30"]
    messages = wait_for(browser, "#messages tbody tr[data-offset]", lambda rows: len(rows) == 50)
    # The latest 50 across partitions (by timestamp): which partitions depends on timing.
    assert {row.get_attribute("data-partition") for row in messages} <= {"0", "1", "2"}
    assert all(0 <= int(row.get_attribute("data-offset")) < 30 for row in messages)
    configs = browser.find_element(By.ID, "configs").text
    assert "retention.ms 86400000 topic" in configs and "cleanup.policy delete default" in configs
    shoot(browser, "topic")

    browser.get(creek.http + "/#/groups")
    row = wait_for(browser, "#groups tbody tr[data-group]")[0]
    assert row.get_attribute("data-group") == "billing" and "Empty" in row.text and "30" in row.text.split()[-1]
    shoot(browser, "groups")

    browser.get(creek.http + "/#/groups/billing")
    lags = wait_for(browser, "#offsets tbody tr[data-lag]", lambda rows: len(rows) == 3)
    assert [row.get_attribute("data-lag") for row in lags] == ["10", "10", "10"]
    assert browser.find_element(By.ID, "lag-chart").get_attribute("data-points") != "0"
    shoot(browser, "group")


def test_message_browser_by_offset_and_by_key(creek, browser):
    seed(creek)
    browser.get(creek.http + "/#/topics/orders?partition=2&offset=10&limit=3&format=json")
    rows = wait_for(browser, "#messages tbody tr[data-offset]", lambda rows: len(rows) == 3)
    assert [(r.get_attribute("data-partition"), r.get_attribute("data-offset")) for r in rows] == [("2", "10"), ("2", "11"), ("2", "12")]
    # Partition 2 holds orders 2, 5, 8, …: offset 10 is order 32, pretty-printed as JSON.
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    assert '"order": 32' in cells[4].text and cells[3].text == "customer-2" and cells[5].text == "source=web"

    # Through the form, as a person would: filter by key.
    browser.get(creek.http + "/#/topics/orders")
    wait_for(browser, "#messages tbody tr[data-offset]")
    form = browser.find_element(By.ID, "browse")
    form.find_element(By.NAME, "key").send_keys("customer-4")
    form.find_element(By.NAME, "limit").clear()
    form.find_element(By.NAME, "limit").send_keys("100")
    form.find_element(By.TAG_NAME, "button").click()
    rows = wait_for(browser, "#messages tbody tr[data-offset]", lambda rows: rows and all(r.get_attribute("data-key") == "customer-4" for r in rows))
    assert len(rows) == 18  # orders 4, 9, …, 89
    shoot(browser, "message-browser")

    browser.get(creek.http + "/#/topics/audit?format=hex")
    row = wait_for(browser, "#messages tbody tr[data-offset]")[0]
    assert row.find_elements(By.TAG_NAME, "td")[4].text.startswith("00 11 22 33")


def test_throughput_chart_updates_while_records_flow(creek, browser):
    seed(creek)
    browser.get(creek.http + "/")
    chart = wait_for(browser, "#throughput")[0]
    before = int(chart.get_attribute("data-points"))
    producer = Producer({"bootstrap.servers": creek.bootstrap, "linger.ms": 5})
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        for i in range(200):
            producer.produce("orders", value=b"tick", partition=i % 3)
        producer.flush(10)
        time.sleep(0.2)

    def grown(charts):
        return charts and int(charts[0].get_attribute("data-points")) > before and float(charts[0].get_attribute("data-max")) > 1
    chart = wait_for(browser, "#throughput", grown)[0]
    assert chart.find_elements(By.CSS_SELECTOR, "polyline.in")
    shoot(browser, "overview-live")
