/// The console's style sheet (`/console/app.css`): system fonts only (no external font).
enum ConsoleStyle {
    static let css = #"""
        :root { --fg: #1d2430; --muted: #5b6472; --line: #d9dde3; --bg: #f6f7f9; --accent: #1f6feb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1rem; background: #1d2430; color: #fff; }
        header h1 { font-size: 1.2rem; margin: 0; }
        header nav a { color: #fff; margin-right: .8rem; text-decoration: none; padding: .2rem .4rem; border-radius: 3px; }
        header nav a.active { background: var(--accent); }
        #token-form { margin-left: auto; display: flex; gap: .4rem; align-items: center; }
        #token-state { color: #9fb3c8; font-size: .85rem; }
        #error { margin: .5rem 1rem; padding: .5rem .8rem; background: #fde7e9; border: 1px solid #f1a7ae; color: #86181d; border-radius: 4px; white-space: pre-wrap; }
        main { padding: 0 1rem 2rem; }
        h2 { font-size: 1.1rem; margin: 1rem 0 .4rem; }
        h3 { font-size: .95rem; margin: .2rem 0; }
        .meta { color: var(--muted); margin: .3rem 0; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
        table { border-collapse: collapse; background: #fff; width: 100%; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef0f3; font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.time, td.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; }
        td ul { margin: 0; padding-left: 1rem; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .8rem; }
        .status { display: inline-block; padding: 0 .4rem; border-radius: 3px; background: #e8eaed; }
        .status[data-status="driving"] { background: #dafbe1; color: #116329; }
        .status[data-status="parking"] { background: #ddf4ff; color: #0a3069; }
        .status[data-status="accident"] { background: #ffebe9; color: #a40e26; font-weight: 600; }
        .filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: .4rem 0 .6rem; }
        .filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
        input, select, button { font: inherit; padding: .2rem .4rem; }
        .chart { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: .5rem .8rem; margin: .6rem 0; }
        .chart .note { color: var(--muted); margin: .1rem 0; font-size: .85rem; }
        .chart svg { width: 100%; height: auto; display: block; }
        .chart svg text { font-size: 11px; fill: var(--muted); }
        .chart svg .axis { stroke: #9aa3ad; stroke-width: 1; }
        .chart svg .bar-energy { fill: #bf8700; }
        .chart svg .track { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; }
        .chart svg .track-start { fill: #1a7f37; }
        .chart svg .track-end { fill: #cf222e; }
        .legend { list-style: none; padding: 0; margin: .3rem 0 0; display: flex; flex-wrap: wrap; gap: .8rem; font-size: .85rem; }
        .legend .swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; border-radius: 2px; }
        #query-link { word-break: break-all; }

        """#
}
