/// The console's page (`GET /`): the frame only. Every value comes from the JSON API and is
/// put into the page by `ConsoleScript` as text (never as markup).
enum ConsolePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>Tacho console</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/console/app.css">
        </head>
        <body>
        <header>
          <h1>Tacho</h1>
          <nav>
            <a href="#fleet" id="nav-fleet">Fleet</a>
            <a href="#alarms" id="nav-alarms">Alarms</a>
            <a href="#query" id="nav-query">Query</a>
          </nav>
          <form id="token-form" autocomplete="off">
            <label>Token <input id="token" type="password" size="24" placeholder="only when auth is on"></label>
            <button type="submit" id="token-save">Use</button>
            <button type="button" id="token-clear">Forget</button>
            <span id="token-state"></span>
          </form>
        </header>
        <div id="error" role="alert" hidden></div>
        <main>

        <section id="view-fleet">
          <h2>Fleet</h2>
          <p class="meta">
            <span id="fleet-summary"></span>
            <span id="fleet-updated"></span>
            <label><input type="checkbox" id="fleet-auto" checked> refresh every 5 s</label>
          </p>
          <table id="fleet-table">
            <thead><tr>
              <th>Vehicle</th><th>Status</th><th>Status time</th><th>Last location</th>
              <th>Speed (km/h)</th><th>Location time</th><th>Last seen</th>
            </tr></thead>
            <tbody></tbody>
          </table>
        </section>

        <section id="view-vehicle" hidden>
          <h2>Vehicle <span id="vehicle-id"></span></h2>
          <p class="meta" id="vehicle-latest"></p>
          <form id="vehicle-form" class="filters">
            <label>From <input id="vehicle-from" size="26"></label>
            <label>To <input id="vehicle-to" size="26"></label>
            <label>Detections <select id="vehicle-fn"><option value="sum">objects (sum)</option><option value="count">rows (count)</option></select></label>
            <button type="submit" id="vehicle-show">Show</button>
            <a id="vehicle-alarms" href="#alarms">this vehicle's alarms</a>
          </form>
          <div class="chart" id="chart-detections">
            <h3>Detections per 15 minutes by type</h3>
            <p class="note"></p>
            <div class="plot"></div>
            <ul class="legend"></ul>
          </div>
          <div class="chart" id="chart-energy">
            <h3>Energy per 15 minutes (kWh, window labelled by its end)</h3>
            <p class="note"></p>
            <div class="plot"></div>
          </div>
          <div class="chart" id="chart-track">
            <h3>Location track</h3>
            <p class="note"></p>
            <div class="plot"></div>
          </div>
        </section>

        <section id="view-alarms" hidden>
          <h2>Alarms</h2>
          <form id="alarm-form" class="filters">
            <label>Type <input id="alarm-type" list="alarm-types" size="16"></label>
            <datalist id="alarm-types"></datalist>
            <label>Vehicle <input id="alarm-vehicle" size="20"></label>
            <label>Min. severity <input id="alarm-severity" type="number" min="0" size="4"></label>
            <label>From <input id="alarm-from" size="22" placeholder="2025-09-14, -2h, …"></label>
            <label>To <input id="alarm-to" size="22"></label>
            <button type="submit" id="alarm-apply">Apply</button>
            <button type="button" id="alarm-reset">Reset</button>
          </form>
          <p class="meta" id="alarm-count"></p>
          <table id="alarm-table">
            <thead><tr><th>Time</th><th>Vehicle</th><th>Type</th><th>Severity</th><th>Files</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>

        <section id="view-query" hidden>
          <h2>Query</h2>
          <form id="query-form" class="filters">
            <label>Measurement <select id="query-measurement"></select></label>
            <label>Vehicle <input id="query-vehicle" size="20"></label>
            <label>From <input id="query-from" size="22"></label>
            <label>To <input id="query-to" size="22"></label>
            <label>Where <input id="query-where" size="18" placeholder="severity>=2"></label>
            <label>Limit <input id="query-limit" type="number" min="1" value="100" size="6"></label>
            <label>Format <select id="query-format"><option>csv</option><option>json</option><option>ndjson</option></select></label>
            <button type="submit" id="query-run">Preview</button>
          </form>
          <p class="meta">Download: <a id="query-link" href="#query"></a></p>
          <p class="meta" id="query-count"></p>
          <table id="query-table"><thead></thead><tbody></tbody></table>
        </section>

        </main>
        <script src="/console/app.js"></script>
        </body>
        </html>

        """#
}
