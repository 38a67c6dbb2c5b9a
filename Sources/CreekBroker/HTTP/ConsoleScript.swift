extension ConsoleAssets {
    /// The console's script: a router over the URL fragment, one render function per view,
    /// a refresh every 2 s (the message browser only on request), SVG line charts.
    static let script = #"""
    "use strict";
    const view = document.getElementById("view");
    const statusLine = document.getElementById("status");
    let timer = null;
    let cluster = null;

    const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    const num = (n) => n == null ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 });
    function bytes(n) {
      if (n == null) return "–";
      const units = ["B", "KiB", "MiB", "GiB", "TiB"];
      let i = 0; let v = Number(n);
      while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
      return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
    }
    function duration(ms) {
      if (ms < 0) return "forever";
      const s = ms / 1000;
      if (s < 120) return s + " s"; if (s < 7200) return Math.round(s / 60) + " min";
      if (s < 172800) return Math.round(s / 3600) + " h"; return Math.round(s / 86400) + " d";
    }
    async function api(path, options) {
      const response = await fetch("/api/" + path, options);
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      return body;
    }
    function table(headers, rows, id) {
      const head = headers.map((h) => `<th class="${h.startsWith("#") ? "num" : ""}">${esc(h.replace(/^#/, ""))}</th>`).join("");
      return `<table${id ? ` id="${id}"` : ""}><thead><tr>${head}</tr></thead><tbody>${rows.join("") || `<tr><td colspan="${headers.length}" class="muted">none</td></tr>`}</tbody></table>`;
    }
    const row = (cells, attrs = "") => `<tr ${attrs}>${cells.map((c) => typeof c === "object" && c !== null ? `<td class="num">${c.n}</td>` : `<td>${c}</td>`).join("")}</tr>`;
    const n = (value) => ({ n: value });

    // An SVG line chart of one or more series over the same x positions.
    function chart(series, id) {
      const width = 600, height = 120;
      const all = series.flatMap((s) => s.points);
      const max = Math.max(1, ...all);
      const lines = series.map((s) => {
        const step = s.points.length > 1 ? width / (s.points.length - 1) : width;
        const pts = s.points.map((v, i) => `${(i * step).toFixed(1)},${(height - 4 - (v / max) * (height - 12)).toFixed(1)}`).join(" ");
        return `<polyline class="${s.cls}" points="${pts}"></polyline>`;
      }).join("");
      const legend = series.map((s) => `<span class="${s.cls}">■ ${esc(s.label)}: ${num(s.points[s.points.length - 1] ?? 0)}</span>`).join(" &nbsp; ");
      return `<svg id="${id}" class="chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" data-points="${all.length}" data-max="${max}">${lines}</svg><p class="legend">${legend} <span class="muted">(peak ${num(max)})</span></p>`;
    }
    // Per-second rates between consecutive history samples, for `pick(sample)` totals.
    function rates(history, pick) {
      const out = [];
      for (let i = 1; i < history.length; i++) {
        const seconds = Math.max(0.001, (history[i].timeMs - history[i - 1].timeMs) / 1000);
        out.push(Math.max(0, (pick(history[i]) - pick(history[i - 1])) / seconds));
      }
      return out;
    }
    const sum = (sample, field, topic) => Object.entries(sample.topics).filter(([name]) => topic == null || name === topic).reduce((a, [, t]) => a + t[field], 0);

    async function overview() {
      const [c, history] = await Promise.all([api("cluster"), api("history")]);
      cluster = c;
      const used = c.diskTotalBytes != null ? c.diskTotalBytes - c.diskUsableBytes : null;
      const cards = [["Version", c.version], ["Uptime", duration(Math.round(c.uptimeSeconds) * 1000)], ["Kafka listener", c.kafkaListener],
        ["Topics", num(c.topics)], ["Partitions", num(c.partitions)], ["Consumer groups", num(c.groups)], ["Data on disk", bytes(c.sizeBytes)],
        ["Disk free", bytes(c.diskUsableBytes) + (used != null ? ` of ${bytes(c.diskTotalBytes)}` : "")], ["Records in", num(c.recordsIn)], ["Records out", num(c.recordsOut)]];
      view.innerHTML = `<h1>Cluster ${esc(c.clusterId)} <span class="muted">node ${c.nodeId}</span></h1>
        <div class="cards">${cards.map(([l, v]) => `<div class="card"><div class="label">${esc(l)}</div><div class="value">${esc(v)}</div></div>`).join("")}</div>
        <h2>Brokers <span class="muted">${esc(c.engine)} storage</span></h2>
        ${table(["Node", "Kafka address", "#Partitions led", "#Lease left"], c.brokers.map((b) => row([esc(String(b.id)) + (b.id === c.nodeId ? ` <span class="muted">this one</span>` : ""),
          esc(b.address), n(num(b.partitionsLed)), n(b.leaseRemainingMs == null ? "—" : (b.leaseRemainingMs / 1000).toFixed(1) + " s")], `data-node="${b.id}"`)), "brokers")}
        <h2>Throughput (records/s, last ${history.length} samples)</h2>
        ${chart([{ label: "in", cls: "in", points: rates(history, (s) => sum(s, "recordsIn")) }, { label: "out", cls: "out", points: rates(history, (s) => sum(s, "recordsOut")) }], "throughput")}
        <p class="muted">Data directory ${esc(c.dataDirectory)} · <a href="/metrics">Prometheus metrics</a> · <a href="/health/ready">readiness</a></p>`;
    }

    async function topics() {
      const list = await api("topics");
      const admin = cluster && !cluster.readOnly;
      const rows = list.map((t) => row([`<a href="#/topics/${encodeURIComponent(t.name)}">${esc(t.name)}</a>` + (t.isInternal ? ` <span class="muted">internal</span>` : ""), n(t.partitions), n(bytes(t.sizeBytes)), n(num(t.records)),
        n(num(t.recordsInPerSecond)), n(num(t.recordsOutPerSecond)), esc(duration(t.retentionMs)) + (t.retentionBytes >= 0 ? ` / ${bytes(t.retentionBytes)}` : ""), esc(t.cleanupPolicy),
        admin && !t.isInternal ? `<button class="danger" data-delete="${esc(t.name)}">Delete</button>` : ""], `data-topic="${esc(t.name)}"`));
      view.innerHTML = `<h1>Topics</h1>` + (admin ? `<form class="inline" id="create"><label>Name<input name="name" required></label><label>Partitions<input name="partitions" type="number" min="1" value="1"></label><button>Create topic</button></form>` : "") +
        table(["Topic", "#Partitions", "#Size", "#Records", "#In/s", "#Out/s", "Retention", "Cleanup", ""], rows, "topics");
      if (!admin) return;
      document.getElementById("create").onsubmit = async (event) => {
        event.preventDefault();
        const form = new FormData(event.target);
        await act(() => api("topics", { method: "POST", body: JSON.stringify({ name: form.get("name"), partitions: Number(form.get("partitions")) }) }));
      };
      view.querySelectorAll("[data-delete]").forEach((b) => b.onclick = () => confirm(`Delete topic ${b.dataset.delete}?`) && act(() => api("topics/" + encodeURIComponent(b.dataset.delete), { method: "DELETE" })));
    }
    async function act(action) {
      try { await action(); route(); } catch (error) { alert(error.message); }
    }

    function renderValue(base64, format) {
      if (base64 == null) return `<span class="muted">null</span>`;
      const raw = atob(base64); const data = Uint8Array.from(raw, (c) => c.charCodeAt(0));
      if (format === "hex") return esc(Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" "));
      let text;
      try { text = new TextDecoder("utf-8", { fatal: true }).decode(data); } catch { return esc(Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" ")) + ` <span class="muted">(binary)</span>`; }
      if (format === "json") { try { return esc(JSON.stringify(JSON.parse(text), null, 2)); } catch { /* not JSON: as text */ } }
      return esc(text);
    }
    const text = (base64) => base64 == null ? "" : new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));

    const partitionRows = (t) => t.partitions.map((p) => row([n(p.partition), n(num(p.logStartOffset)), n(num(p.highWatermark)),
      n(num(p.lastStableOffset)), n(num(p.highWatermark - p.logStartOffset)), n(bytes(p.sizeBytes)), n(p.segments),
      p.offline ? `<span class="error">offline</span>` : "online"]));
    const topicChart = (history, name) => chart([{ label: "in", cls: "in", points: rates(history, (s) => sum(s, "recordsIn", name)) },
      { label: "out", cls: "out", points: rates(history, (s) => sum(s, "recordsOut", name)) }], "topic-throughput");

    async function topic(name, params) {
      const [t, history] = await Promise.all([api("topics/" + encodeURIComponent(name)), api("history")]);
      const partitions = partitionRows(t);
      const configs = t.configs.map((c) => row([esc(c.name), esc(c.value), c.isDefault ? `<span class="muted">default</span>` : "topic"]));
      const format = params.get("format") || "text";
      const options = ["<option value=''>all</option>"].concat(t.partitions.map((p) => `<option ${params.get("partition") === String(p.partition) ? "selected" : ""}>${p.partition}</option>`)).join("");
      view.innerHTML = `<h1>Topic ${esc(t.name)} <span class="muted">${esc(t.id)}</span></h1>
        ${topicChart(history, name)}
        <h2>Partitions</h2>${table(["#Partition", "#Log start", "#High watermark", "#Last stable", "#Records", "#Size", "#Segments", "State"], partitions, "partitions")}
        <h2>Messages</h2>
        <form class="inline" id="browse"><label>Partition<select name="partition">${options}</select></label>
          <label>From offset<input name="offset" type="number" min="0" value="${esc(params.get("offset") || "")}"></label>
          <label>From time<input name="time" type="datetime-local" value="${esc(params.get("time") || "")}"></label>
          <label>Key<input name="key" value="${esc(params.get("key") || "")}"></label>
          <label>Limit<input name="limit" type="number" min="1" max="500" value="${esc(params.get("limit") || "50")}"></label>
          <label>Show as<select name="format">${["text", "json", "hex"].map((f) => `<option ${f === format ? "selected" : ""}>${f}</option>`).join("")}</select></label>
          <button>Show</button></form>
        <div id="messages-area"><p class="muted">Loading…</p></div>
        <h2>Configuration</h2>${table(["Setting", "Value", "Source"], configs, "configs")}`;
      document.getElementById("browse").onsubmit = (event) => {
        event.preventDefault();
        const form = new FormData(event.target); const query = new URLSearchParams();
        for (const [k, v] of form.entries()) if (v !== "") query.set(k, v);
        location.hash = `#/topics/${encodeURIComponent(name)}?${query}`;
      };
      const query = new URLSearchParams();
      for (const k of ["partition", "offset", "key", "limit"]) if (params.get(k)) query.set(k, params.get(k));
      if (params.get("time")) query.set("timestamp", String(new Date(params.get("time")).getTime()));
      try {
        const messages = await api(`topics/${encodeURIComponent(name)}/messages?${query}`);
        const rows = messages.map((m) => row([n(m.partition), n(m.offset), esc(new Date(m.timestamp).toISOString()), `<pre>${renderValue(m.key, "text")}</pre>`,
          `<pre>${renderValue(m.value, format)}</pre>`, m.headers.map((h) => `${esc(h.key)}=${esc(text(h.value))}`).join("<br>")],
          `data-partition="${m.partition}" data-offset="${m.offset}" data-key="${esc(text(m.key))}"`));
        document.getElementById("messages-area").innerHTML = table(["#Partition", "#Offset", "Timestamp", "Key", "Value", "Headers"], rows, "messages");
      } catch (error) {
        document.getElementById("messages-area").innerHTML = `<p class="error">${esc(error.message)}</p>`;
      }
    }

    async function refreshTopic(name) {
      try {
        const [t, history] = await Promise.all([api("topics/" + encodeURIComponent(name)), api("history")]);
        const chartArea = document.getElementById("topic-throughput");
        if (!chartArea) return;
        chartArea.nextElementSibling.remove();
        chartArea.outerHTML = topicChart(history, name);
        document.querySelector("#partitions tbody").innerHTML = partitionRows(t).join("");
        statusLine.textContent = "updated " + new Date().toLocaleTimeString();
      } catch (error) {
        statusLine.textContent = error.message;
      }
      timer = setTimeout(() => refreshTopic(name), 2000);
    }

    async function groups() {
      const list = await api("groups");
      view.innerHTML = `<h1>Consumer groups</h1>` + table(["Group", "State", "#Members", "#Partitions", "#Lag"], list.map((g) =>
        row([`<a href="#/groups/${encodeURIComponent(g.group)}">${esc(g.group)}</a>`, `<span class="state-${esc(g.state)}">${esc(g.state)}</span>`, n(g.members), n(g.partitions), n(num(g.lagSum))], `data-group="${esc(g.group)}"`)), "groups");
    }

    async function group(id) {
      const [g, history] = await Promise.all([api("groups/" + encodeURIComponent(id)), api("history")]);
      const members = g.members.map((m) => row([esc(m.memberId), esc(m.groupInstanceId ?? ""), esc(m.clientId), esc(m.host),
        Object.entries(m.assignment).map(([t, ps]) => `${esc(t)}: ${ps.join(", ")}`).join("<br>")]));
      const offsets = g.offsets.map((o) => row([esc(o.topic), n(o.partition), n(num(o.committed)), n(num(o.highWatermark)), n(num(o.lag))], `data-lag="${o.lag ?? ""}"`));
      const admin = cluster && !cluster.readOnly;
      view.innerHTML = `<h1>Group ${esc(g.group)} <span class="state-${esc(g.state)}">${esc(g.state)}</span></h1>
        <p class="muted">protocol ${esc(g.protocolType)} ${esc(g.protocolName)} · lag ${num(g.lagSum)}</p>
        ${chart([{ label: "lag (sum)", cls: "lag", points: history.map((s) => s.groupLag[id] ?? 0) }].concat(
          g.offsets.slice(0, 8).map((o, i) => ({ label: `${o.topic}-${o.partition}`, cls: `part p${i}`,
            points: history.map((s) => (s.partitionLag[id] || {})[`${o.topic}-${o.partition}`] ?? 0) }))), "lag-chart")}
        <h2>Members</h2>${table(["Member", "Instance", "Client", "Host", "Assignment"], members, "members")}
        <h2>Offsets and lag</h2>${table(["Topic", "#Partition", "#Committed", "#High watermark", "#Lag"], offsets, "offsets")}` +
        (admin ? `<h2>Reset offsets</h2><form class="inline" id="reset"><label>Topic<input name="topic" required></label><label>To<input name="to" value="earliest"></label><button class="danger">Reset</button></form>` : "");
      if (admin) document.getElementById("reset").onsubmit = (event) => {
        event.preventDefault(); const form = new FormData(event.target);
        act(() => api(`groups/${encodeURIComponent(id)}/reset-offsets`, { method: "POST", body: JSON.stringify({ topic: form.get("topic"), to: form.get("to") }) }));
      };
    }

    async function route() {
      clearTimeout(timer);
      const [path, query] = location.hash.replace(/^#/, "").split("?");
      const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
      const params = new URLSearchParams(query || "");
      try {
        if (!cluster) cluster = await api("cluster");
        if (parts[0] === "topics" && parts[1]) await topic(parts[1], params);
        else if (parts[0] === "topics") await topics();
        else if (parts[0] === "groups" && parts[1]) await group(parts[1]);
        else if (parts[0] === "groups") await groups();
        else await overview();
        statusLine.textContent = "updated " + new Date().toLocaleTimeString();
      } catch (error) {
        view.innerHTML = `<p class="error">${esc(error.message)}</p>`;
      }
      // Live views refresh; a topic page refreshes its chart and partitions only, keeping
      // the message browser's results until asked again.
      if (parts[0] === "topics" && parts[1]) timer = setTimeout(() => refreshTopic(parts[1]), 2000);
      else timer = setTimeout(tick, 2000);
    }
    // A refresh waits while someone is typing into a form (create topic, reset offsets).
    function tick() {
      if (document.activeElement && document.activeElement.closest("form")) timer = setTimeout(tick, 2000);
      else route();
    }
    window.addEventListener("hashchange", route);
    route();
    """#
}
