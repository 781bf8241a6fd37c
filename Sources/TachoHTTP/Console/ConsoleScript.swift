/// The console's script (`/console/app.js`), plain ES2020 without a framework. It reads the
/// JSON API only (`/api/v1/measurements`, `vehicles`, `latest`, `agg`, `query`) and puts every
/// value into the page with `textContent` or an attribute, never as markup; the charts are SVG
/// elements it creates. Measurement and column names come from `/api/v1/measurements`; the
/// views use the built-in measurements (detections, status, locations, alarms, power) and say
/// so when the store's configuration lacks one.
enum ConsoleScript {
    static let js = #"""
        'use strict';
        (function () {
        const SVG = 'http://www.w3.org/2000/svg';
        const QUARTER = 15 * 60 * 1000;
        const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#bf8700', '#8250df', '#0598bc', '#e16f24', '#57606a'];
        const TOKEN_KEY = 'tacho.token';
        const $ = (id) => document.getElementById(id);

        const state = {
          measurements: null,   // name -> {name, columns: [{name, type}]}
          vehicles: [],         // rows of /api/v1/vehicles
          fleetTimer: null,
          fleetBusy: false,
          vehicle: null,
          alarmTypes: new Set(),
          lastSeen: new Map(),  // vehicle -> its newest time the fleet table saw
        };

        // ---- the API ---------------------------------------------------------------------------

        class ApiError extends Error {
          constructor(status, message, parameter) { super(message); this.status = status; this.parameter = parameter; }
        }

        function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

        function apiURL(path, params) {
          const q = new URLSearchParams();
          for (const [k, v] of Object.entries(params || {})) {
            if (v === undefined || v === null || v === '') continue;
            for (const one of (Array.isArray(v) ? v : [v])) if (one !== '') q.append(k, String(one));
          }
          const s = q.toString();
          return path + (s ? '?' + s : '');
        }

        function headers(accept) {
          const h = { 'Accept': accept || 'application/json' };
          const t = token();
          if (t) h['Authorization'] = 'Bearer ' + t;
          return h;
        }

        async function api(path, params) {
          const r = await fetch(apiURL(path, params), { headers: headers(), cache: 'no-store' });
          if (!r.ok) {
            let message = r.status + ' ' + r.statusText, parameter = null;
            try { const j = await r.json(); if (j && j.error) { message = r.status + ': ' + j.error; parameter = j.parameter; } } catch (e) { /* not JSON */ }
            if (r.status === 401) message += ' (enter a token above)';
            throw new ApiError(r.status, message, parameter);
          }
          return r.json();
        }

        function showError(e) {
          const box = $('error');
          if (!e) { box.hidden = true; box.textContent = ''; return; }
          box.textContent = e instanceof Error ? e.message : String(e);
          box.hidden = false;
        }

        // ---- measurements (declared: data, not code) ----------------------------------------------

        async function measurements() {
          if (state.measurements) return state.measurements;
          const rows = await api('/api/v1/measurements');
          const byName = {};
          for (const r of rows) {
            const columns = (r.columns || []).map((c) => {
              const i = String(c).lastIndexOf(':');
              return i < 0 ? { name: String(c), type: '' } : { name: String(c).slice(0, i), type: String(c).slice(i + 1) };
            });
            byName[r.name] = { name: r.name, columns: columns, rows: r.rows };
          }
          state.measurements = byName;
          return byName;
        }

        function column(m, name) { return m && m.columns.find((c) => c.name === name) ? name : null; }
        function firstOfType(m, types) { const c = m && m.columns.find((c) => types.includes(c.type)); return c ? c.name : null; }

        // ---- DOM helpers (text only) --------------------------------------------------------------

        function el(tag, text, cls) {
          const e = document.createElement(tag);
          if (text !== undefined && text !== null) e.textContent = String(text);
          if (cls) e.className = cls;
          return e;
        }

        function svg(tag, attrs, text) {
          const e = document.createElementNS(SVG, tag);
          for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
          if (text !== undefined) e.textContent = String(text);
          return e;
        }

        function cellText(v) {
          if (v === null || v === undefined) return '';
          if (Array.isArray(v)) return v.join('; ');
          return String(v);
        }

        function fmtNumber(v, digits) {
          return typeof v === 'number' ? v.toFixed(digits) : cellText(v);
        }

        function vehicleLink(id) {
          const a = el('a', id);
          a.href = '#vehicle/' + encodeURIComponent(id);
          return a;
        }

        function statusBadge(s) {
          const b = el('span', s, 'status');
          b.dataset.status = s;
          return b;
        }

        // ---- time ---------------------------------------------------------------------------------

        function parseTime(s) { const t = Date.parse(s); return Number.isFinite(t) ? t : null; }
        function iso(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }
        function hhmm(ms) { return new Date(ms).toISOString().slice(11, 16); }
        // The chart's [from, to) in ms: the fields when they are absolute times, else the
        // buckets' (relative forms such as -2h are the server's to resolve). `shift`: how far a
        // bucket's label lies after its window's start (label=right: 15 minutes).
        function extent(from, to, buckets, shift) {
          const starts = buckets.filter((t) => t !== null).map((t) => t - shift);
          const lo = starts.length ? Math.min(...starts) : Date.now(), hi = starts.length ? Math.max(...starts) + QUARTER : lo + QUARTER;
          return [parseTime(from) ?? lo, parseTime(to) ?? hi];
        }

        // ---- routing ------------------------------------------------------------------------------

        function route() {
          const h = location.hash || '#fleet';
          let view = 'fleet', arg = null;
          if (h.startsWith('#vehicle/')) { view = 'vehicle'; arg = decodeURIComponent(h.slice(9)); }
          else if (h === '#alarms') view = 'alarms';
          else if (h === '#query') view = 'query';
          for (const v of ['fleet', 'vehicle', 'alarms', 'query']) $('view-' + v).hidden = v !== view;
          for (const v of ['fleet', 'alarms', 'query']) $('nav-' + v).classList.toggle('active', v === view);
          showError(null);
          stopFleet();
          if (view === 'fleet') startFleet();
          else if (view === 'vehicle') openVehicle(arg);
          else if (view === 'alarms') loadAlarms();
          else if (view === 'query') prepareQuery();
        }

        // ---- fleet --------------------------------------------------------------------------------

        function startFleet() {
          refreshFleet();
          state.fleetTimer = setInterval(() => { if ($('fleet-auto').checked) refreshFleet(); }, 5000);
        }
        function stopFleet() { if (state.fleetTimer) clearInterval(state.fleetTimer); state.fleetTimer = null; }

        async function refreshFleet() {
          if (state.fleetBusy) return;
          state.fleetBusy = true;
          try {
            const ms = await measurements();
            const status = ms['status'], loc = ms['locations'];
            const [vehicles, latest, locations] = await Promise.all([
              // A device token may not list the fleet (403): its own rows still show.
              api('/api/v1/vehicles').catch((e) => { if (e.status === 403) return []; throw e; }),
              status ? api('/api/v1/latest/status') : Promise.resolve([]),
              loc ? api('/api/v1/latest/locations') : Promise.resolve([]),
            ]);
            state.vehicles = vehicles;
            const statusColumn = firstOfType(status, ['string']) || 'status';
            const lat = column(loc, 'lat'), lon = column(loc, 'lon'), speed = column(loc, 'speed_kmh');
            const rows = new Map();
            const row = (id) => { if (!rows.has(id)) rows.set(id, { id: id }); return rows.get(id); };
            for (const v of vehicles) row(v.vehicle_id).lastSeen = v.last_time;
            for (const s of latest) { const r = row(s.vehicle_id); r.status = s[statusColumn]; r.statusTime = s.time; }
            for (const l of locations) {
              const r = row(l.vehicle_id);
              r.location = lat && lon ? fmtNumber(l[lat], 5) + ', ' + fmtNumber(l[lon], 5) : '';
              r.speed = speed ? fmtNumber(l[speed], 1) : '';
              r.locationTime = l.time;
            }
            // Without the fleet list (a device token), the newest of the vehicle's answers.
            for (const r of rows.values()) {
              if (r.lastSeen === undefined) r.lastSeen = [r.statusTime, r.locationTime].filter((t) => t).sort((a, b) => (parseTime(a) ?? 0) - (parseTime(b) ?? 0)).pop();
              state.lastSeen.set(r.id, r.lastSeen);
            }
            const body = $('fleet-table').tBodies[0];
            const fresh = document.createDocumentFragment();
            for (const r of [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
              const tr = el('tr');
              tr.dataset.vehicle = r.id;
              const td = (content, cls) => { const c = el('td', null, cls); if (content instanceof Node) c.appendChild(content); else c.textContent = cellText(content); tr.appendChild(c); };
              td(vehicleLink(r.id), 'vehicle mono');
              td(r.status === undefined ? '' : statusBadge(cellText(r.status)), 'status-cell');
              td(r.statusTime, 'time status-time');
              td(r.location, 'location mono');
              td(r.speed, 'num speed');
              td(r.locationTime, 'time location-time');
              td(r.lastSeen, 'time last-seen');
              fresh.appendChild(tr);
            }
            body.replaceChildren(fresh);
            $('fleet-summary').textContent = rows.size + (rows.size === 1 ? ' vehicle' : ' vehicles');
            $('fleet-updated').textContent = 'updated ' + new Date().toLocaleTimeString();
            $('fleet-table').dataset.loaded = String(Number($('fleet-table').dataset.loaded || 0) + 1);
            showError(null);
          } catch (e) {
            showError(e);
          } finally {
            state.fleetBusy = false;
          }
        }

        // ---- one vehicle --------------------------------------------------------------------------

        async function openVehicle(id) {
          if (id === null || id === '') { location.hash = '#fleet'; return; }
          const changed = state.vehicle !== id;
          state.vehicle = id;
          $('vehicle-id').textContent = id;
          $('vehicle-alarms').href = '#alarms';
          try {
            if (changed || !$('vehicle-from').value || !$('vehicle-to').value) {
              // The six hours up to the vehicle's newest row (its data may be old).
              let last = null;
              const known = state.vehicles.find((v) => v.vehicle_id === id);
              if (known) last = parseTime(known.last_time);
              if (last === null && state.lastSeen.has(id)) last = parseTime(state.lastSeen.get(id));
              if (last === null) {
                const all = await api('/api/v1/vehicles').catch(() => []);
                state.vehicles = all.length ? all : state.vehicles;
                const v = all.find((x) => x.vehicle_id === id);
                if (v) last = parseTime(v.last_time);
              }
              if (last === null) last = Date.now();
              const to = Math.floor(last / QUARTER) * QUARTER + QUARTER;
              $('vehicle-from').value = iso(to - 24 * QUARTER);
              $('vehicle-to').value = iso(to);
            }
            await drawVehicle();
          } catch (e) {
            showError(e);
          }
        }

        async function drawVehicle() {
          const id = state.vehicle;
          const from = $('vehicle-from').value.trim(), to = $('vehicle-to').value.trim();
          const ms = await measurements();
          const latest = $('vehicle-latest');
          latest.replaceChildren();
          if (ms['status']) {
            const s = await api('/api/v1/latest/status', { vehicle: id });
            const col = firstOfType(ms['status'], ['string']) || 'status';
            if (s.length) { latest.appendChild(el('span', 'latest status')); latest.appendChild(statusBadge(cellText(s[0][col]))); latest.appendChild(el('span', 'since ' + s[0].time)); }
            else latest.appendChild(el('span', 'no status reported'));
          }
          const results = await Promise.allSettled([
            drawDetections(ms, id, from, to),
            drawEnergy(ms, id, from, to),
            drawTrack(ms, id, from, to),
          ]);
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) showError(failed.reason); else showError(null);
          const view = $('view-vehicle');
          view.dataset.drawn = String(Number(view.dataset.drawn || 0) + 1);
        }

        function chartParts(id) {
          const box = $(id);
          return { box: box, note: box.querySelector('.note'), plot: box.querySelector('.plot'), legend: box.querySelector('.legend') };
        }

        // Bars over [from, to) in 15-minute slots: stacks = [{t (slot start ms), parts: [{value, color, title, cls, key}]}].
        function barChart(stacks, fromMs, toMs, opts) {
          const W = 900, H = 220, L = 56, R = 24, T = 10, B = 26;
          const slots = Math.max(1, Math.round((toMs - fromMs) / QUARTER));
          const slotW = (W - L - R) / slots;
          let max = 0;
          for (const s of stacks) max = Math.max(max, s.parts.reduce((a, p) => a + Math.max(0, p.value), 0));
          if (max <= 0) max = 1;
          const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label });
          root.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
          root.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
          root.appendChild(svg('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, opts.formatMax(max)));
          root.appendChild(svg('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, '0'));
          const every = Math.max(1, Math.ceil(slots / 8));
          for (let i = 0; i <= slots; i += every) {
            root.appendChild(svg('text', { x: L + i * slotW, y: H - 8, 'text-anchor': 'middle' }, hhmm(fromMs + i * QUARTER)));
          }
          const scale = (H - B - T) / max;
          for (const s of stacks) {
            const i = Math.floor((s.t - fromMs) / QUARTER);
            if (i < 0 || i >= slots) continue;
            let y = H - B;
            for (const p of s.parts) {
              const h = Math.max(0, p.value) * scale;
              y -= h;
              const r = svg('rect', { x: (L + i * slotW + slotW * 0.1).toFixed(2), y: y.toFixed(2), width: Math.max(1, slotW * 0.8).toFixed(2), height: h.toFixed(2), class: 'bar ' + (p.cls || '') });
              if (p.color) r.setAttribute('fill', p.color);
              if (p.key !== undefined) r.dataset.key = p.key;
              r.dataset.value = String(p.value);
              r.appendChild(svg('title', {}, p.title));
              root.appendChild(r);
            }
          }
          return root;
        }

        async function drawDetections(ms, id, from, to) {
          const c = chartParts('chart-detections');
          c.plot.replaceChildren(); c.legend.replaceChildren(); c.note.textContent = '';
          const m = ms['detections'];
          if (!m) { c.note.textContent = 'the store declares no detections measurement'; return; }
          const typeColumn = firstOfType(m, ['string']);
          const fn = $('vehicle-fn').value === 'count' ? 'count' : 'sum';
          const params = { every: '15m', fn: fn, vehicle: id, from: from, to: to };
          if (typeColumn) params.by = typeColumn;
          const rows = await api('/api/v1/agg/detections', params);
          const [fromMs, toMs] = extent(from, to, rows.map((r) => parseTime(r.bucket)), 0);
          const types = [...new Set(rows.map((r) => cellText(typeColumn ? r[typeColumn] : 'all')))].sort();
          const color = (t) => PALETTE[types.indexOf(t) % PALETTE.length];
          const byBucket = new Map();
          for (const r of rows) {
            const t = parseTime(r.bucket);
            if (t === null) continue;
            const type = cellText(typeColumn ? r[typeColumn] : 'all');
            if (!byBucket.has(t)) byBucket.set(t, { t: t, parts: [] });
            byBucket.get(t).parts.push({ value: Number(r.value) || 0, color: color(type), key: type, cls: 'bar-detections', title: r.bucket + ' ' + type + ': ' + cellText(r.value) });
          }
          const total = rows.reduce((a, r) => a + (Number(r.value) || 0), 0);
          c.note.textContent = rows.length ? total + (fn === 'sum' ? ' objects' : ' detection rows') + ' in ' + byBucket.size + ' of the 15-minute windows' : 'no detections in this range';
          c.plot.appendChild(barChart([...byBucket.values()], fromMs, toMs, { label: 'detections per 15 minutes by type', formatMax: (v) => String(v) }));
          for (const t of types) {
            const li = el('li');
            const sw = el('span', null, 'swatch');
            sw.style.background = color(t);
            li.appendChild(sw);
            li.appendChild(document.createTextNode(t));
            c.legend.appendChild(li);
          }
        }

        async function drawEnergy(ms, id, from, to) {
          const c = chartParts('chart-energy');
          c.plot.replaceChildren(); c.note.textContent = '';
          if (!ms['power']) { c.note.textContent = 'the store declares no power measurement'; return; }
          // Windows [t, t+15m) labelled by their right edge; an empty window is 0 inside the range.
          const rows = await api('/api/v1/agg/power', { every: '15m', fn: 'energy', label: 'right', fill: '0', vehicle: id, from: from, to: to });
          const [fromMs, toMs] = extent(from, to, rows.map((r) => parseTime(r.bucket)), QUARTER);
          const stacks = [];
          let total = 0;
          for (const r of rows) {
            const end = parseTime(r.bucket);
            if (end === null) continue;
            const v = Number(r.value) || 0;
            total += v;
            stacks.push({ t: end - QUARTER, parts: [{ value: v, cls: 'bar-energy', title: 'until ' + r.bucket + ': ' + v.toFixed(3) + ' kWh' }] });
          }
          c.note.textContent = rows.length ? total.toFixed(3) + ' kWh in ' + rows.length + ' windows' : 'no power readings for this vehicle';
          if (rows.length) c.plot.appendChild(barChart(stacks, fromMs, toMs, { label: '15-minute energy', formatMax: (v) => v.toFixed(2) }));
        }

        async function drawTrack(ms, id, from, to) {
          const c = chartParts('chart-track');
          c.plot.replaceChildren(); c.note.textContent = '';
          const m = ms['locations'];
          const lat = column(m, 'lat'), lon = column(m, 'lon');
          if (!m || !lat || !lon) { c.note.textContent = 'the store declares no locations measurement with lat and lon'; return; }
          const rows = await api('/api/v1/query/locations', { vehicle: id, from: from, to: to, limit: 20000 });
          const pts = rows.map((r) => [Number(r[lon]), Number(r[lat]), r.time]).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
          if (!pts.length) { c.note.textContent = 'no locations in this range'; return; }
          const W = 900, H = 280, P = 16;
          let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
          for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
          const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180) || 1;   // equirectangular: shrink longitudes
          const spanX = Math.max((x1 - x0) * k, 1e-6), spanY = Math.max(y1 - y0, 1e-6);
          const s = Math.min((W - 2 * P) / spanX, (H - 2 * P) / spanY);
          const px = (p) => [(P + (p[0] - x0) * k * s).toFixed(1), (H - P - (p[1] - y0) * s).toFixed(1)];
          const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'location track' });
          const line = svg('polyline', { points: pts.map((p) => px(p).join(',')).join(' '), class: 'track' });
          line.dataset.points = String(pts.length);
          root.appendChild(line);
          const [sx, sy] = px(pts[0]), [ex, ey] = px(pts[pts.length - 1]);
          const start = svg('circle', { cx: sx, cy: sy, r: 5, class: 'track-start' });
          start.appendChild(svg('title', {}, 'first: ' + pts[0][2]));
          const end = svg('circle', { cx: ex, cy: ey, r: 5, class: 'track-end' });
          end.appendChild(svg('title', {}, 'last: ' + pts[pts.length - 1][2]));
          root.appendChild(start); root.appendChild(end);
          c.plot.appendChild(root);
          c.note.textContent = pts.length + ' points, ' + pts[0][2] + ' to ' + pts[pts.length - 1][2] + (rows.length >= 20000 ? ' (first 20000)' : '');
        }

        // ---- alarms -------------------------------------------------------------------------------

        const ALARM_LIMIT = 1000;

        async function loadAlarms() {
          const table = $('alarm-table');
          try {
            const ms = await measurements();
            const m = ms['alarms'];
            if (!m) { $('alarm-count').textContent = 'the store declares no alarms measurement'; table.tBodies[0].replaceChildren(); return; }
            const typeColumn = column(m, 'alarm_type') || firstOfType(m, ['string']);
            const severity = column(m, 'severity');
            const files = column(m, 'files') || firstOfType(m, ['string_list']);
            const where = [];
            const type = $('alarm-type').value.trim(), sev = $('alarm-severity').value.trim();
            if (type && typeColumn) where.push(typeColumn + '=' + type);
            if (sev && severity) where.push(severity + '>=' + sev);
            const rows = await api('/api/v1/query/alarms', {
              vehicle: $('alarm-vehicle').value.trim(), from: $('alarm-from').value.trim(), to: $('alarm-to').value.trim(),
              where: where, limit: ALARM_LIMIT,
            });
            const body = document.createDocumentFragment();
            for (const r of rows) {
              const tr = el('tr');
              tr.dataset.vehicle = cellText(r.vehicle_id);
              tr.appendChild(el('td', r.time, 'time'));
              const v = el('td', null, 'mono'); v.appendChild(vehicleLink(cellText(r.vehicle_id))); tr.appendChild(v);
              tr.appendChild(el('td', typeColumn ? cellText(r[typeColumn]) : '', 'alarm-type'));
              tr.appendChild(el('td', severity ? cellText(r[severity]) : '', 'num'));
              const f = el('td', null, 'files');
              const list = files ? r[files] : null;
              if (Array.isArray(list) && list.length) { const ul = el('ul'); for (const name of list) ul.appendChild(el('li', name)); f.appendChild(ul); }
              else if (list) f.textContent = cellText(list);
              tr.appendChild(f);
              body.appendChild(tr);
              if (typeColumn && r[typeColumn] !== undefined) state.alarmTypes.add(cellText(r[typeColumn]));
            }
            table.tBodies[0].replaceChildren(body);
            const dl = $('alarm-types');
            dl.replaceChildren(...[...state.alarmTypes].sort().map((t) => { const o = el('option'); o.value = t; return o; }));
            $('alarm-count').textContent = rows.length + (rows.length === 1 ? ' alarm' : ' alarms') + (rows.length >= ALARM_LIMIT ? ' (the first ' + ALARM_LIMIT + '; narrow the filters)' : '');
            table.dataset.loaded = String(Number(table.dataset.loaded || 0) + 1);
            showError(null);
          } catch (e) {
            showError(e);
          }
        }

        // ---- query box ----------------------------------------------------------------------------

        async function prepareQuery() {
          try {
            const ms = await measurements();
            const sel = $('query-measurement');
            if (!sel.options.length) {
              for (const name of Object.keys(ms)) { const o = el('option', name); o.value = name; sel.appendChild(o); }
            }
            updateQueryLink();
          } catch (e) {
            showError(e);
          }
        }

        function queryParams(format) {
          const limit = $('query-limit').value.trim();
          return {
            vehicle: $('query-vehicle').value.split(',').map((s) => s.trim()).filter((s) => s),
            from: $('query-from').value.trim(), to: $('query-to').value.trim(),
            where: $('query-where').value.split(';').map((s) => s.trim()).filter((s) => s),
            limit: limit, format: format,
          };
        }

        function queryPath() { return '/api/v1/query/' + encodeURIComponent($('query-measurement').value); }

        function updateQueryLink() {
          const format = $('query-format').value;
          const url = apiURL(queryPath(), queryParams(format));
          const a = $('query-link');
          a.href = url;
          a.textContent = url;
          a.download = $('query-measurement').value + '.' + (format === 'ndjson' ? 'ndjson' : format);
        }

        async function runQuery() {
          updateQueryLink();
          const table = $('query-table');
          try {
            const p = queryParams('json');
            p.limit = Math.min(Number(p.limit) || 100, 500);
            const rows = await api(queryPath(), p);
            const columns = rows.length ? Object.keys(rows[0]) : [];
            const head = el('tr');
            for (const c of columns) head.appendChild(el('th', c));
            table.tHead.replaceChildren(head);
            const body = document.createDocumentFragment();
            for (const r of rows) {
              const tr = el('tr');
              for (const c of columns) tr.appendChild(el('td', cellText(r[c])));
              body.appendChild(tr);
            }
            table.tBodies[0].replaceChildren(body);
            $('query-count').textContent = 'preview: ' + rows.length + ' rows (at most ' + p.limit + ')';
            showError(null);
          } catch (e) {
            showError(e);
          }
        }

        // With a token, a plain link cannot carry the Authorization header: fetch, then save.
        async function download(ev) {
          if (!token()) return;
          ev.preventDefault();
          try {
            const a = $('query-link');
            const r = await fetch(a.getAttribute('href'), { headers: headers('*/*'), cache: 'no-store' });
            if (!r.ok) throw new ApiError(r.status, r.status + ': ' + ((await r.json().catch(() => ({}))).error || r.statusText));
            const url = URL.createObjectURL(await r.blob());
            const save = document.createElement('a');
            save.href = url;
            save.download = a.download;
            document.body.appendChild(save);
            save.click();
            save.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10000);
          } catch (e) {
            showError(e);
          }
        }

        // ---- token --------------------------------------------------------------------------------

        function showTokenState() {
          $('token-state').textContent = token() ? 'token set for this tab' : 'no token';
          $('token').value = '';
        }

        function init() {
          $('token-form').addEventListener('submit', (ev) => {
            ev.preventDefault();
            const t = $('token').value.trim();
            if (t) sessionStorage.setItem(TOKEN_KEY, t);
            state.measurements = null;
            showTokenState();
            route();
          });
          $('token-clear').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); state.measurements = null; showTokenState(); route(); });
          $('vehicle-form').addEventListener('submit', (ev) => { ev.preventDefault(); drawVehicle().catch(showError); });
          $('vehicle-alarms').addEventListener('click', () => { $('alarm-vehicle').value = state.vehicle || ''; });
          $('alarm-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadAlarms(); });
          $('alarm-reset').addEventListener('click', () => {
            for (const id of ['alarm-type', 'alarm-vehicle', 'alarm-severity', 'alarm-from', 'alarm-to']) $(id).value = '';
            loadAlarms();
          });
          $('query-form').addEventListener('submit', (ev) => { ev.preventDefault(); runQuery(); });
          $('query-form').addEventListener('input', updateQueryLink);
          $('query-form').addEventListener('change', updateQueryLink);
          $('query-link').addEventListener('click', download);
          window.addEventListener('hashchange', route);
          showTokenState();
          route();
        }

        init();
        })();

        """#
}
