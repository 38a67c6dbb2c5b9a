/// The web console's static files, compiled into the binary: no build step, no CDN — the
/// page loads only `/console.css` and `/console.js` from Creek, and the script only calls
/// `/api/`. Plain HTML, CSS and JavaScript (no framework); views are addressed by the URL
/// fragment (`#/topics/orders?offset=5`), so every view can be linked and reloaded.
enum ConsoleAssets {
    static let page = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Creek console</title>
    <link rel="stylesheet" href="/console.css">
    </head>
    <body>
    <header>
      <a class="brand" href="#/">Creek</a>
      <nav><a href="#/">Overview</a><a href="#/topics">Topics</a><a href="#/groups">Consumer groups</a></nav>
      <span id="status"></span>
    </header>
    <main id="view"><noscript>The console needs JavaScript; the same data is at <a href="/api/cluster">/api/</a> and <a href="/metrics">/metrics</a>.</noscript></main>
    <script src="/console.js"></script>
    </body>
    </html>
    """#

    static let style = #"""
    :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #0b6bcb; --bad: #c0392b; --bg: #f7f8fa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
    header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #10243e; color: #fff; }
    header a { color: #d6e4f5; text-decoration: none; margin-right: 16px; }
    header a:hover { color: #fff; }
    .brand { font-weight: 700; font-size: 18px; color: #fff; }
    #status { margin-left: auto; font-size: 12px; color: #9fb3c8; }
    main { padding: 20px 24px; max-width: 1280px; }
    h1 { font-size: 20px; margin: 0 0 16px; }
    h2 { font-size: 16px; margin: 24px 0 8px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
    .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
    .card .value { font-size: 20px; font-weight: 600; margin-top: 4px; }
    table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
    th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: #f0f2f5; font-weight: 600; font-size: 12px; color: #475467; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    td pre { margin: 0; white-space: pre-wrap; word-break: break-all; font: 12px/1.4 ui-monospace, Menlo, monospace; max-height: 16em; overflow: auto; }
    a { color: var(--accent); }
    form.inline { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0 12px; }
    form.inline label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
    input, select, button { font: inherit; padding: 4px 8px; border: 1px solid #c8cdd5; border-radius: 6px; background: #fff; }
    button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
    button.danger { background: var(--bad); border-color: var(--bad); }
    .chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; width: 100%; height: 140px; }
    .chart polyline { fill: none; stroke-width: 2; }
    .chart .in { stroke: var(--accent); } .chart .out { stroke: #2e9d5b; } .chart .lag { stroke: #d97706; stroke-width: 3; }
    .chart .part { stroke-width: 1.5; stroke-dasharray: 4 3; }
    .chart .p0, .legend .p0 { stroke: #6366f1; color: #6366f1; } .chart .p1, .legend .p1 { stroke: #0891b2; color: #0891b2; }
    .chart .p2, .legend .p2 { stroke: #be185d; color: #be185d; } .chart .p3, .legend .p3 { stroke: #65a30d; color: #65a30d; }
    .chart .p4, .legend .p4 { stroke: #9333ea; color: #9333ea; } .chart .p5, .legend .p5 { stroke: #ca8a04; color: #ca8a04; }
    .chart .p6, .legend .p6 { stroke: #475569; color: #475569; } .chart .p7, .legend .p7 { stroke: #dc2626; color: #dc2626; }
    .legend { font-size: 12px; color: var(--muted); margin: 4px 0 0; }
    .legend .in { color: var(--accent); } .legend .out { color: #2e9d5b; } .legend .lag { color: #d97706; }
    .error { color: var(--bad); }
    .muted { color: var(--muted); }
    .state-Stable { color: #2e9d5b; font-weight: 600; } .state-Empty { color: var(--muted); }
    .state-PreparingRebalance, .state-CompletingRebalance { color: #d97706; font-weight: 600; }
    """#
}
