"""The driver of tools/console-browser-test (see there): Debian's chromium, headless, through
Debian's chromedriver, on the console of a running `tacho serve`; prints what it sees as JSON."""

import argparse
import json
import os
import sys
import time
import urllib.parse
import urllib.request

INSTALL = ("install Debian's browser and driver: apt-get install chromium chromium-driver "
           "(make test-deps does), and selenium: tools/pyenv --browser")


def fail(code, message):
    print("console-browser-test: " + message, file=sys.stderr)
    sys.exit(code)


try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    fail(3, "selenium cannot be imported (%s); %s" % (e, INSTALL))


def start_browser():
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    chromedriver = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    for path, package in ((chromium, "chromium"), (chromedriver, "chromium-driver")):
        if not os.access(path, os.X_OK):
            fail(3, "%s is missing (Debian package %s); %s" % (path, package, INSTALL))
    # Never let selenium look for (or download) a browser or driver of its own.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1800", "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # On a loaded box chromium can miss chromedriver's start-up deadline ("session not
    # created"): three tries before calling it missing.
    errors = []
    for attempt in range(3):
        try:
            d = webdriver.Chrome(options=o, service=Service(executable_path=chromedriver))
        except WebDriverException as e:
            errors.append(str(e).strip()[:600])
            print("console-browser-test: chromium did not start (try %d of 3): %s" % (attempt + 1, errors[-1]), file=sys.stderr)
            time.sleep(2)
            continue
        d.set_page_load_timeout(30)
        return d
    fail(3, "chromium could not be started through %s: %s; %s" % (chromedriver, " / ".join(errors), INSTALL))


class Page:
    def __init__(self, driver, url, shots):
        self.d = driver
        self.url = url.rstrip("/")
        self.shots = shots

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, what, cond, seconds=60):
        try:
            return WebDriverWait(self.d, seconds, poll_frequency=0.1).until(lambda _: cond())
        except TimeoutException:
            err = self.js("const e = document.getElementById('error'); return e && !e.hidden ? e.textContent : '';")
            fail(1, "timed out waiting for %s (the page's error box: %r)" % (what, err))

    def counter(self, element_id, key):
        return int(self.js("const e = document.getElementById(arguments[0]); return Number((e && e.dataset[arguments[1]]) || 0);",
                           element_id, key))

    def go(self, fragment):
        self.js("location.hash = arguments[0];", fragment)

    def set_field(self, element_id, value):
        self.js("const e = document.getElementById(arguments[0]); e.value = arguments[1]; "
                "e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));",
                element_id, value)

    def click(self, element_id):
        self.d.find_element(By.ID, element_id).click()

    def shot(self, name):
        path = os.path.join(self.shots, name)
        self.d.save_screenshot(path)
        return path

    def error_box(self):
        return self.js("const e = document.getElementById('error'); return e.hidden ? null : e.textContent;")


def fleet(p):
    p.wait("the fleet table", lambda: p.counter("fleet-table", "loaded") >= 1)
    first = p.counter("fleet-table", "loaded")
    # The table refreshes itself (every 5 s).
    p.wait("the fleet table's refresh", lambda: p.counter("fleet-table", "loaded") > first, seconds=30)
    rows = p.js("""
        return [...document.querySelectorAll('#fleet-table tbody tr')].map((tr) => ({
          vehicle: tr.dataset.vehicle,
          link: tr.querySelector('td.vehicle a').getAttribute('href'),
          status: tr.querySelector('td.status-cell').textContent,
          status_time: tr.querySelector('td.status-time').textContent,
          location: tr.querySelector('td.location').textContent,
          speed: tr.querySelector('td.speed').textContent,
          location_time: tr.querySelector('td.location-time').textContent,
          last_seen: tr.querySelector('td.last-seen').textContent,
        }));""")
    return {"rows": rows, "refreshes": p.counter("fleet-table", "loaded"), "summary": p.js("return document.getElementById('fleet-summary').textContent;"),
            "error": p.error_box(), "screenshot": p.shot("fleet.png")}


def vehicle(p, vid, start, end):
    before = p.counter("view-vehicle", "drawn")
    p.go("#vehicle/" + urllib.parse.quote(vid, safe=""))
    p.wait("the vehicle view's first drawing", lambda: p.counter("view-vehicle", "drawn") > before)
    defaults = p.js("return [document.getElementById('vehicle-from').value, document.getElementById('vehicle-to').value];")
    before = p.counter("view-vehicle", "drawn")
    p.set_field("vehicle-from", start)
    p.set_field("vehicle-to", end)
    p.click("vehicle-show")
    p.wait("the vehicle view's drawing of the asked range", lambda: p.counter("view-vehicle", "drawn") > before)
    seen = p.js("""
        const bars = (id) => [...document.querySelectorAll('#' + id + ' svg rect.bar')].map((r) => ({
          key: r.dataset.key || null, value: Number(r.dataset.value), height: Number(r.getAttribute('height')),
          title: r.querySelector('title') ? r.querySelector('title').textContent : null }));
        const line = document.querySelector('#chart-track svg polyline');
        return {
          title: document.getElementById('vehicle-id').textContent,
          latest: document.getElementById('vehicle-latest').textContent,
          detection_bars: bars('chart-detections'),
          legend: [...document.querySelectorAll('#chart-detections .legend li')].map((li) => li.textContent),
          energy_bars: bars('chart-energy'),
          track_points: line ? line.getAttribute('points').trim().split(/\\s+/).length : 0,
          track_points_attribute: line ? Number(line.dataset.points) : 0,
          notes: [...document.querySelectorAll('#view-vehicle .chart .note')].map((n) => n.textContent),
        };""")
    seen["default_range"] = defaults
    seen["error"] = p.error_box()
    seen["screenshot"] = p.shot("vehicle.png")
    return seen


ALARM_FIELDS = {"type": "alarm-type", "vehicle": "alarm-vehicle", "severity": "alarm-severity", "from": "alarm-from", "to": "alarm-to"}


def alarm_rows(p):
    return p.js("""
        return [...document.querySelectorAll('#alarm-table tbody tr')].map((tr) => {
          const td = tr.querySelectorAll('td');
          return { time: td[0].textContent, vehicle: td[1].textContent, type: td[2].textContent, severity: td[3].textContent,
                   files: [...td[4].querySelectorAll('li')].map((li) => li.textContent) };
        });""")


def alarms(p, filters):
    before = p.counter("alarm-table", "loaded")
    p.go("#alarms")
    p.wait("the alarm list", lambda: p.counter("alarm-table", "loaded") > before)
    out = {"all": alarm_rows(p), "count_text": p.js("return document.getElementById('alarm-count').textContent;"), "filtered": []}
    # Markup in a stored value must stay text: no element of the table may come from data.
    out["elements_in_table"] = sorted(set(p.js("return [...document.querySelectorAll('#alarm-table tbody *')].map((e) => e.tagName.toLowerCase());")))
    out["document_title"] = p.d.title
    for f in filters:
        values = dict(urllib.parse.parse_qsl(f, keep_blank_values=True))
        unknown = set(values) - set(ALARM_FIELDS)
        if unknown:
            fail(2, "unknown alarm filter field(s) %s: use %s" % (sorted(unknown), sorted(ALARM_FIELDS)))
        for key, element_id in ALARM_FIELDS.items():
            p.set_field(element_id, values.get(key, ""))
        before = p.counter("alarm-table", "loaded")
        p.click("alarm-apply")
        p.wait("the filtered alarm list (%s)" % f, lambda: p.counter("alarm-table", "loaded") > before)
        out["filtered"].append({"filter": f, "rows": alarm_rows(p), "error": p.error_box()})
        if len(out["filtered"]) == 1:
            out["screenshot"] = p.shot("alarms.png")
    out["error"] = p.error_box()
    return out


def query(p, measurement, vid, token):
    p.go("#query")
    p.wait("the query box's measurements", lambda: p.js("return document.getElementById('query-measurement').options.length;") > 0)
    names = p.js("return [...document.getElementById('query-measurement').options].map((o) => o.value);")
    p.js("document.getElementById('query-measurement').value = arguments[0];", measurement)
    p.set_field("query-vehicle", vid)
    p.set_field("query-format", "csv")
    p.set_field("query-limit", "")
    href = p.js("return document.getElementById('query-link').getAttribute('href');")
    p.click("query-run")
    p.wait("the query preview", lambda: p.js("return document.getElementById('query-count').textContent;") != "")
    preview = p.js("return document.querySelectorAll('#query-table tbody tr').length;")
    # The link is the API's URL: what a click downloads (with the token as the page sends it).
    req = urllib.request.Request(p.url + href, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode("utf-8")
    return {"measurements": names, "href": href, "download": body, "preview_rows": preview, "error": p.error_box(),
            "screenshot": p.shot("query.png")}


def main():
    a = argparse.ArgumentParser(prog="console-browser-test")
    a.add_argument("--url", required=True)
    a.add_argument("--vehicle", required=True)
    a.add_argument("--from", dest="start", required=True)
    a.add_argument("--to", dest="end", required=True)
    a.add_argument("--alarm-filter", action="append", default=[])
    a.add_argument("--query-measurement", default="detections")
    a.add_argument("--query-vehicle")
    a.add_argument("--token", default="")
    a.add_argument("--screenshots", required=True)
    args = a.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    d = start_browser()
    try:
        d.get(args.url.rstrip("/") + "/")
        p = Page(d, args.url, args.screenshots)
        out = {"page_title": d.title}
        if args.token:
            # Before the token: the API refuses, and the page says so.
            p.wait("the refusal without a token", lambda: p.error_box() is not None)
            out["without_token"] = p.error_box()
            d.get_log("browser")  # the expected 401s so far: reading the log empties it
            p.set_field("token", args.token)
            p.click("token-save")
            out["token_in_session"] = p.js("return sessionStorage.getItem('tacho.token') === arguments[0];", args.token)
        out["fleet"] = fleet(p)
        out["vehicle"] = vehicle(p, args.vehicle, args.start, args.end)
        out["alarms"] = alarms(p, args.alarm_filter)
        out["query"] = query(p, args.query_measurement, args.query_vehicle or args.vehicle, args.token)
        # Anything the page logged as an error (a script error, a refused CSP, a failed fetch).
        out["console_errors"] = [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        json.dump(out, sys.stdout, indent=1)
        print()
    finally:
        d.quit()


if __name__ == "__main__":
    main()
