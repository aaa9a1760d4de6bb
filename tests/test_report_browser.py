"""`snakemake --report` read as a user reads it: the tiny study's report opened in a real headless Chromium
(Debian's chromium and chromium-driver, Python's selenium; skipped with the reason when they are missing)."""

import shutil

import pytest

from guided_retraining.summary import read_key_lines, read_table

from conftest import snakemake

pytestmark = pytest.mark.workflow

# the report's Tables, in the order it lists them: the study's Tables 3, 4, 5, the statistics, then the rest
TABLES = ["table3", "table4", "table5", "statistics", "statistics_pairs", "retraining_time", "adversarial_share",
          "cross_attack", "objectives", "objectives_overview"]
# numbered to the width of the largest number (10 tables: 01 to 10), so the report's menu sorts them in order
LABELS = ["01. Table 3", "02. Table 4", "03. Table 5", "04. Statistics over repetitions", "05. Every metric against every",
          "06. Retraining time", "07. Adversarial share", "08. Accuracy on the Adv.Test", "09. Objectives",
          "10. Which metric for which attack or shift"]
FIGURES = 5  # per dataset and attack (REPORT_FIGURES)
OBJECTIVE_FIGURES = 3  # per dataset: fault detection, estimation, retraining
_MISSING = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]


@pytest.fixture(scope="module")
def browser():
    if _MISSING:
        pytest.skip(f"{' and '.join(_MISSING)} not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(tiny_run, "--report", str(path), configfile=tiny_run / "tiny.yaml")
    print(f"report: {path.stat().st_size / 1e6:.2f} MB")
    return path


def _click(driver, by, locator):
    """Click what ``locator`` finds once nothing covers it any more (the menu slides in after each click)."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def click(d):
        d.find_element(by, locator).click()
        return True

    # 30 s: the report's menu is drawn by its scripts, slower on a loaded 2-core machine (10 s timed out once)
    WebDriverWait(driver, 30, poll_frequency=0.2,
                  ignored_exceptions=[ElementClickInterceptedException, StaleElementReferenceException]).until(click)


def _open(driver, report, category=None):
    from selenium.webdriver.common.by import By

    driver.get(report.as_uri())
    if category:
        _click(driver, By.XPATH, f"//span[normalize-space(text())='{category}']")


def _view(driver, label):
    """Click the eye of the entry whose label starts with ``label`` and switch into the page it shows (its iframe)."""
    from selenium.webdriver.common.by import By

    _click(driver, By.XPATH, f"//td[starts-with(normalize-space(text()), \"{label}\")]/ancestor::tr[1]"
                             "//a[@iconname='eye']")
    frame = driver.find_element(By.TAG_NAME, "iframe")
    driver.switch_to.frame(frame)
    return frame


def test_landing_page_is_the_summary(browser, report, tiny_run):
    from selenium.webdriver.common.by import By

    _open(browser, report)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "What this run found" in text
    for line in read_key_lines(tiny_run / "results/summary.md"):  # the key lines, visible as text
        assert line.replace("`", "")[:80] in text
    assert "Warning (dsa)" in text
    # counted from what the report holds: 10 tables; 5 figures per dataset and attack, 3 objectives heat maps
    # per dataset and the training graph
    assert f"This report holds {len(TABLES)} table(s) and {FIGURES + OBJECTIVE_FIGURES + 1} figure(s)." in text
    menu = [e.text for e in browser.find_elements(By.XPATH, "//span[contains(text(), ' ')]")
            if e.text[:2] in ("1 ", "2 ", "3 ", "4 ")]
    assert menu == ["1 Summary", "2 Tables", "3 Figures", "4 Training"]


def test_every_table_is_readable_in_order(browser, report, tiny_run):
    from selenium.webdriver.common.by import By

    _open(browser, report, "2 Tables")
    listed = [e.text for e in browser.find_elements(By.XPATH, "//td[starts-with(normalize-space(text()), '')]")
              if e.text[:2].rstrip(".").isdigit()]
    assert [next(x for x in listed if x.startswith(label)) for label in LABELS] == \
        sorted(listed, key=lambda x: int(x.split(".")[0]))
    for name, label in zip(TABLES, LABELS):
        _open(browser, report, "2 Tables")
        _view(browser, label)
        csv = read_table(tiny_run / f"results/tables/{name}.csv")
        rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == len(csv), name
        assert all(r.is_displayed() for r in rows[:5])
        text = browser.find_element(By.TAG_NAME, "body").text
        assert " ".join(csv.columns) in text  # the header row
        first = rows[0].text.split()
        assert first[:2] == [str(csv.iloc[0, 0]), str(csv.iloc[0, 1])], name
        if name == "table3":
            for metric in ("deepgini", "dsa", "lsa", "nc", "random", "softmax_entropy"):
                assert metric in text
            assert f"{csv['best_acc'].iloc[0]:.4f}" in rows[0].text
        browser.switch_to.default_content()


def test_figures_fill_the_content_area(browser, report):
    from selenium.webdriver.common.by import By

    _open(browser, report, "3 Figures")
    _click(browser, By.XPATH, "//span[normalize-space(text())='digits, fgsm']")  # beside 'digits, objectives'
    frame = _view(browser, "1. Figure 3")
    image = browser.find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    width, drawn = browser.execute_script("return document.documentElement.clientWidth"), image.size["width"]
    assert drawn >= 0.95 * width
    browser.switch_to.default_content()
    # the page spans the content area: from the menu's edge to the window's
    window = browser.execute_script("return window.innerWidth")
    assert frame.location["x"] + frame.size["width"] >= window - 20
    print(f"figure: {drawn} px wide in a {window} px window (menu shown)")


def test_summary_entry(browser, report):
    from selenium.webdriver.common.by import By

    _open(browser, report, "1 Summary")
    _view(browser, "What this run found")
    assert "In three lines" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
