import SlipwayCore

/// The dashboard's script (`/dashboard.js`): plain JavaScript with no build step and no external resources. It
/// reads the JSON API, follows the open app's event stream and sends commands with the session's CSRF token.
enum DashboardScript {
    /// Every event kind the log knows, as a JavaScript list: the stream names its events by kind, and the script
    /// listens for each.
    static let eventKinds = EventKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The file, served as is.
    static let text = #"""
        // Slipway dashboard: plain script, no framework, no build step. Reads the controller's JSON API with the
        // session cookie, follows the app's event stream, sends commands with the CSRF token. One app is open at a
        // time: only it polls metrics, holds a stream and a timeline, so fifty apps cost fifty summary rows.
        'use strict';
        (() => {
          const EVENT_KINDS = [\#(DashboardScript.eventKinds)];
          const FINISHED = new Set(['promoted', 'rolledBack', 'aborted', 'superseded']);
          const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];
          const PAGE_SIZE = 50;
          const TIMELINE_CAP = 250;
          const METRICS_SECONDS = 300;
          const METRICS_EVERY_MS = 2000;
          const VIEW_EVERY_MS = 5000;
          const LIST_EVERY_MS = 10000;
          const CHAOS_EVERY_MS = 3000;
          const VIEW_MIN_GAP_MS = 300;
          const NEWEST = Number.MAX_SAFE_INTEGER;

          const COMMANDS = [
            {
              name: 'promote', label: 'Promote',
              question: (app, r) => `Promote ${app}: end the current step of ${rolloutName(r)} and go on?`,
            },
            {
              name: 'pause', label: 'Pause',
              question: (app, r) => `Pause ${rolloutName(r)} of ${app} at its current step?`,
            },
            {
              name: 'resume', label: 'Resume',
              question: (app, r) => `Resume ${rolloutName(r)} of ${app}?`,
            },
            {
              name: 'abort', label: 'Abort',
              question: (app, r) => r
                ? `Abort ${rolloutName(r)} of ${app}? All traffic goes back to ${r.from} and ${r.to} is stopped.`
                : `Abort the rollout of ${app}?`,
            },
            {
              name: 'rollback', label: 'Roll back',
              question: (app, r) => r && !FINISHED.has(r.state)
                ? `Roll back ${app}? All traffic goes back to ${r.from} and ${r.to} is stopped.`
                : `Roll back ${app} to the release before ${r ? r.to : 'the current one'}?`,
            },
          ];

          // ---- small helpers ----------------------------------------------------------------------------------------

          function h(tag, attributes, ...children) {
            const node = document.createElement(tag);
            for (const [key, value] of Object.entries(attributes || {})) {
              if (value === undefined || value === null || value === false) continue;
              if (key === 'text') node.textContent = value;
              else if (key === 'className') node.className = value;
              else if (key === 'onclick') node.addEventListener('click', value);
              else node.setAttribute(key, value === true ? '' : String(value));
            }
            for (const child of children) {
              if (child !== null && child !== undefined) node.append(child);
            }
            return node;
          }

          function setText(node, text) {
            if (node.textContent !== text) node.textContent = text;
          }

          function cookie(name) {
            for (const part of document.cookie.split(';')) {
              const [key, ...rest] = part.trim().split('=');
              if (key === name) return decodeURIComponent(rest.join('='));
            }
            return '';
          }

          function percent(value) {
            const rounded = Math.round(Number(value) * 10) / 10;
            return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
          }

          function number(value) {
            if (typeof value !== 'number') return String(value);
            if (Number.isInteger(value)) return String(value);
            return String(Number(value.toPrecision(4)));
          }

          function clock(iso) {
            const date = new Date(iso);
            if (Number.isNaN(date.getTime())) return String(iso || '');
            const pad = (n, width = 2) => String(n).padStart(width, '0');
            return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
              pad(date.getMilliseconds(), 3);
          }

          function duration(ms) {
            const seconds = Math.max(0, Math.round(ms / 1000));
            if (seconds < 60) return `${seconds}s`;
            const minutes = Math.floor(seconds / 60);
            if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
            return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
          }

          function rolloutName(r) {
            return r ? `rollout #${r.rollout} (${r.from} → ${r.to})` : 'the rollout';
          }

          function stepText(r) {
            if (!r || !r.steps) return '';
            const shown = Math.min(r.step + 1, r.steps);
            const description = r.step < r.steps && r.stepDescription ? `: ${r.stepDescription}` : '';
            return `step ${shown}/${r.steps}${description}`;
          }

          /// Versions in display order: stable first, then the others by name.
          function versionsOf(view) {
            const names = new Set(Object.keys(view.weights || {}));
            for (const instance of view.instances || []) names.add(instance.version);
            if (view.stable) names.add(view.stable);
            return [...names].sort((a, b) => (a === view.stable ? -1 : b === view.stable ? 1 : a.localeCompare(b)));
          }

          /// Percent per version; with nothing routed yet the stable release has it all.
          function weightsOf(view) {
            const weights = view.weights || {};
            if (Object.keys(weights).length === 0 && view.stable) return { [view.stable]: 100 };
            return weights;
          }

          function notice(text, isError) {
            const node = document.querySelector('[data-testid="notice"]');
            if (!node) return;
            setText(node, text || '');
            node.classList.toggle('error', Boolean(isError));
          }

          // ---- the API ----------------------------------------------------------------------------------------------

          class APIError extends Error {}

          async function api(path, options = {}) {
            let response;
            try {
              response = await fetch(path, {
                credentials: 'same-origin',
                cache: 'no-store',
                ...options,
                headers: { Accept: 'application/json', ...(options.headers || {}) },
              });
            } catch (error) {
              throw new APIError('cannot reach the controller');
            }
            if (response.status === 401) {
              location.assign('/login');
              throw new APIError('signed out');
            }
            let body = null;
            try {
              body = await response.json();
            } catch (error) {
              body = null;
            }
            if (!response.ok) {
              const message = body && body.error && body.error.message;
              throw new APIError(message || `the controller answered ${response.status}`);
            }
            return body;
          }

          function post(path) {
            return api(path, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('slipway_csrf') },
              body: '{}',
            });
          }

          const appPath = (name) => `/api/v1/apps/${encodeURIComponent(name)}`;

          // ---- charts -----------------------------------------------------------------------------------------------

          const CHARTS = [
            { key: 'rps', title: 'Requests per second', unit: ' req/s', floor: 1, format: (v) => number(v) },
            { key: 'errorRate', title: 'Error rate', unit: '', floor: 0.01, format: (v) => `${percent(v * 100)}%` },
            { key: 'p99Ms', title: 'p99 latency', unit: ' ms', floor: 10, format: (v) => number(v) },
          ];

          function niceCeiling(value) {
            const exponent = Math.pow(10, Math.floor(Math.log10(value)));
            for (const step of [1, 2, 2.5, 5, 10]) {
              if (value <= step * exponent) return step * exponent;
            }
            return 10 * exponent;
          }

          function drawChart(canvas, chart, series, now) {
            const ratio = window.devicePixelRatio || 1;
            const width = canvas.clientWidth;
            const height = canvas.clientHeight;
            if (width === 0 || height === 0) return;
            if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
              canvas.width = Math.round(width * ratio);
              canvas.height = Math.round(height * ratio);
            }
            const context = canvas.getContext('2d');
            context.setTransform(ratio, 0, 0, ratio, 0, 0);
            context.clearRect(0, 0, width, height);
            const left = 48;
            const right = 8;
            const top = 8;
            const bottom = 18;
            const plotWidth = width - left - right;
            const plotHeight = height - top - bottom;
            let maximum = chart.floor;
            for (const line of series) {
              for (const [, value] of line.points) maximum = Math.max(maximum, value);
            }
            maximum = niceCeiling(maximum);
            const start = now - METRICS_SECONDS * 1000;
            const x = (t) => left + ((t - start) / (METRICS_SECONDS * 1000)) * plotWidth;
            const y = (v) => top + plotHeight - (v / maximum) * plotHeight;

            context.font = '11px system-ui, sans-serif';
            context.fillStyle = '#6b7280';
            context.strokeStyle = '#e5e7eb';
            context.lineWidth = 1;
            context.textAlign = 'right';
            context.textBaseline = 'middle';
            for (const fraction of [0, 0.5, 1]) {
              const value = maximum * fraction;
              const yy = Math.round(y(value)) + 0.5;
              context.beginPath();
              context.moveTo(left, yy);
              context.lineTo(width - right, yy);
              context.stroke();
              context.fillText(chart.format(value), left - 6, yy);
            }
            context.textAlign = 'left';
            context.textBaseline = 'alphabetic';
            context.fillText('−5 min', left, height - 4);
            context.textAlign = 'right';
            context.fillText('now', width - right, height - 4);

            context.lineWidth = 1.5;
            context.lineJoin = 'round';
            for (const line of series) {
              context.strokeStyle = line.color;
              context.beginPath();
              let drawing = false;
              let previous = null;
              for (const [t, value] of line.points) {
                // A gap of more than a few seconds is a gap in the data, not a slope.
                if (previous !== null && t - previous > 5000) drawing = false;
                if (drawing) context.lineTo(x(t), y(value));
                else context.moveTo(x(t), y(value));
                drawing = true;
                previous = t;
              }
              context.stroke();
            }
          }

          // A difference and its confidence interval over time: the band, the estimate, 0 and ±the minimum effect.
          function drawInterval(canvas, points, margin) {
            const ratio = window.devicePixelRatio || 1;
            const width = canvas.clientWidth || 320;
            const height = canvas.clientHeight || 140;
            canvas.width = Math.round(width * ratio);
            canvas.height = Math.round(height * ratio);
            const context = canvas.getContext('2d');
            context.setTransform(ratio, 0, 0, ratio, 0, 0);
            context.clearRect(0, 0, width, height);
            canvas.dataset.points = String(points.length);
            if (!points.length) return;
            const left = 56;
            const right = 8;
            const top = 8;
            const bottom = 18;
            let low = Math.min(-margin, ...points.map((p) => p.lower));
            let high = Math.max(margin, ...points.map((p) => p.upper));
            if (high - low <= 0) { low -= 1; high += 1; }
            const last = points[points.length - 1].seconds || 1;
            const x = (t) => left + (t / last) * (width - left - right);
            const y = (v) => top + (high - v) / (high - low) * (height - top - bottom);
            context.fillStyle = 'rgba(37, 99, 235, 0.18)';
            context.beginPath();
            points.forEach((p, i) => (i ? context.lineTo(x(p.seconds), y(p.upper)) : context.moveTo(x(p.seconds),
              y(p.upper))));
            for (const p of points.slice().reverse()) context.lineTo(x(p.seconds), y(p.lower));
            context.closePath();
            context.fill();
            context.strokeStyle = '#6b7280';
            context.setLineDash([4, 3]);
            for (const value of margin > 0 ? [0, margin, -margin] : [0]) {
              context.beginPath();
              context.moveTo(left, y(value));
              context.lineTo(width - right, y(value));
              context.stroke();
            }
            context.setLineDash([]);
            context.strokeStyle = '#2563eb';
            context.lineWidth = 1.5;
            context.beginPath();
            points.forEach((p, i) => (i ? context.lineTo(x(p.seconds), y(p.difference))
              : context.moveTo(x(p.seconds), y(p.difference))));
            context.stroke();
            context.font = '11px system-ui, sans-serif';
            context.fillStyle = '#6b7280';
            context.textAlign = 'right';
            context.textBaseline = 'middle';
            for (const value of [high, 0, low]) context.fillText(number(value), left - 6, y(value));
            context.textAlign = 'left';
            context.textBaseline = 'alphabetic';
            context.fillText('start', left, height - 4);
            context.textAlign = 'right';
            context.fillText(`${Math.round(last)} s`, width - right, height - 4);
          }

          // ---- one app ----------------------------------------------------------------------------------------------

          class AppCard {
            constructor(name, section) {
              this.name = name;
              this.view = null;
              this.colors = new Map();
              this.section = section;
              this.buildShell();
            }

            color(version) {
              if (!this.colors.has(version)) this.colors.set(version, this.colors.size % PALETTE.length);
              return this.colors.get(version);
            }

            buildShell() {
              const id = `app-${this.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
              this.detailsId = `${id}-details`;
              this.toggle = h('button', {
                type: 'button', className: 'toggle', 'aria-expanded': 'false', 'aria-controls': this.detailsId,
                'data-testid': 'app-toggle', text: this.name,
              });
              this.toggle.addEventListener('click', () => dashboard.toggle(this));
              this.badge = h('span', { className: 'badge', 'data-testid': 'app-state' });
              this.line = h('span', { className: 'app-line' });
              this.miniBar = h('span', { className: 'mini-bar', 'aria-hidden': 'true' });
              this.section.replaceChildren(
                h('div', { className: 'app-head' }, h('h2', { className: 'app-name', id: `${id}-name` }, this.toggle),
                  this.badge, this.miniBar, this.line),
              );
              this.section.setAttribute('aria-labelledby', `${id}-name`);
              this.section.removeAttribute('aria-label');
            }

            updateSummary(view) {
              this.view = view;
              const r = view.rollout;
              const active = r && !FINISHED.has(r.state);
              const healthy = (view.instances || []).filter((i) => i.state === 'healthy').length;
              const weights = weightsOf(view);
              const split = versionsOf(view).filter((v) => weights[v] > 0).map((v) => `${v} ${percent(weights[v])}%`);
              const parts = [`stable ${view.stable || 'none'}`, `${healthy}/${view.desiredInstances ?? '?'} healthy`];
              if (split.length) parts.push(split.join(' · '));
              if (active) parts.push(`${rolloutName(r)} ${stepText(r)}`);
              setText(this.line, parts.join(' · '));
              const state = active ? r.state : (healthy < (view.desiredInstances || 0) ? 'degraded' : 'steady');
              setText(this.badge, state);
              this.badge.className = `badge state-${state}`;
              this.section.dataset.state = state;
              this.renderBar(this.miniBar, view, false);
              if (this.details) this.schedule('view');
            }

            renderBar(container, view, labelled) {
              const weights = weightsOf(view);
              const versions = versionsOf(view).filter((v) => weights[v] > 0);
              const key = versions.map((v) => `${v}=${weights[v]}`).join(',');
              if (container.dataset.key === key) return;
              container.dataset.key = key;
              container.replaceChildren(...versions.map((version) => {
                const weight = percent(weights[version]);
                const segment = h('span', {
                  className: `segment c${this.color(version)}`,
                  title: `${version}: ${weight}%`,
                  'data-version': labelled ? version : null,
                  'data-weight': labelled ? weight : null,
                }, labelled ? h('span', { className: 'segment-label', text: `${version} ${weight}%` }) : null);
                segment.style.width = `${weights[version]}%`;
                return segment;
              }));
            }

            // ---- open / close ----

            open() {
              this.section.classList.add('open');
              this.toggle.setAttribute('aria-expanded', 'true');
              this.buildDetails();
              this.timeline = { events: [], nodes: new Map(), next: null, detached: false, waiting: 0, loading: false };
              this.metrics = null;
              this.loadView();
              this.loadMetrics();
              this.loadTimeline(NEWEST, true);
              this.openStream();
              this.timers = [
                setInterval(() => this.loadMetrics(), METRICS_EVERY_MS),
                setInterval(() => this.loadView(), VIEW_EVERY_MS),
              ];
            }

            close() {
              this.section.classList.remove('open');
              this.toggle.setAttribute('aria-expanded', 'false');
              for (const timer of this.timers || []) clearInterval(timer);
              this.timers = [];
              if (this.stream) this.stream.close();
              this.stream = null;
              clearTimeout(this.reopenTimer);
              clearTimeout(this.viewTimer);
              if (this.details) this.details.remove();
              this.details = null;
              this.timeline = null;
              this.metrics = null;
            }

            buildDetails() {
              const d = {};
              d.bar = h('div', { className: 'bar', 'data-testid': 'weights', role: 'img' });
              d.versions = h('ul', { className: 'versions', 'data-testid': 'versions' });
              d.title = h('p', { className: 'rollout-title', 'data-testid': 'rollout-title' });
              d.report = h('a', { className: 'rollout-report', 'data-testid': 'rollout-report', text: 'Open the report' });
              d.state = h('span', { className: 'badge', 'data-testid': 'rollout-state' });
              d.step = h('p', { className: 'rollout-step', 'data-testid': 'rollout-step' });
              d.reason = h('p', { className: 'rollout-reason', 'data-testid': 'rollout-reason' });
              d.release = h('p', { className: 'rollout-release', 'data-testid': 'rollout-release' });
              d.deadline = h('p', { className: 'rollout-deadline', 'data-testid': 'rollout-deadline' });
              d.decision = h('p', { className: 'last-decision', 'data-testid': 'last-decision' });
              d.result = h('p', { className: 'action-result', role: 'status', 'aria-live': 'polite',
                'data-testid': 'action-result' });
              d.buttons = new Map();
              const actions = h('div', {
                className: 'actions', role: 'group', 'aria-label': `Rollout commands for ${this.name}`,
              });
              for (const command of COMMANDS) {
                const button = h('button', {
                  type: 'button', className: `action action-${command.name}`, 'data-action': command.name,
                  'aria-label': `${command.label} ${this.name}`, text: command.label,
                });
                button.addEventListener('click', () => this.run(command));
                d.buttons.set(command.name, button);
                actions.append(button);
              }
              d.experiment = h('section', { className: 'panel experiment', 'data-testid': 'experiment',
                'aria-label': 'Experiment', hidden: true });
              d.instances = h('tbody');
              d.dataPlane = h('p', { className: 'data-plane', 'data-testid': 'data-plane' });
              d.charts = CHARTS.map((chart) => {
                const canvas = h('canvas', { role: 'img', 'aria-label': `${chart.title} per version` });
                const legend = h('ul', { className: 'legend' });
                const figure = h('figure', { className: 'chart', 'data-testid': `chart-${chart.key}` },
                  h('figcaption', { text: chart.title }), canvas, legend);
                return { chart, canvas, legend, figure };
              });
              d.waitingRoom = h('p', { className: 'waiting-room', 'data-testid': 'waiting-room', hidden: true });
              d.timeline = h('ol', { className: 'timeline', 'data-testid': 'timeline', 'aria-live': 'off' });
              d.latest = h('button', { type: 'button', className: 'latest', 'data-action': 'latest', hidden: true });
              d.latest.addEventListener('click', () => this.loadTimeline(NEWEST, true));
              d.older = h('button', { type: 'button', className: 'older', 'data-action': 'older', text: 'Older events',
                'aria-label': `Older events of ${this.name}` });
              d.older.addEventListener('click', () => this.loadOlder());
              d.count = h('span', { className: 'timeline-count', 'data-testid': 'timeline-count' });

              this.details = h('div', { className: 'details', id: this.detailsId },
                h('div', { className: 'row' },
                  h('section', { className: 'panel traffic', 'aria-label': 'Traffic' },
                    h('h3', { text: 'Traffic' }), d.bar, d.versions),
                  h('section', { className: 'panel rollout', 'data-testid': 'rollout', 'aria-label': 'Rollout' },
                    h('h3', { text: 'Rollout ' }, d.state), d.title, d.report, d.release, d.step, d.reason, d.deadline, d.decision, actions,
                    d.result)),
                d.experiment,
                h('section', { className: 'panel instances', 'aria-label': 'Instances' },
                  h('h3', { text: 'Instances' }), d.dataPlane,
                  h('table', { 'data-testid': 'instances' },
                    h('thead', {}, h('tr', {}, ...['instance', 'version', 'state', 'pid', 'port', 'since', 'supervisor']
                      .map((name) => h('th', { scope: 'col', text: name })))),
                    d.instances)),
                h('section', { className: 'panel charts', 'aria-label': 'Live metrics' },
                  h('h3', { text: 'Per version, last 5 minutes' }),
                  h('div', { className: 'chart-row' }, ...d.charts.map((c) => c.figure)), d.waitingRoom),
                h('section', { className: 'panel events', 'aria-label': 'Events' },
                  h('h3', { text: 'Events ' }, d.count), d.latest, d.timeline, d.older));
              this.parts = d;
              this.section.append(this.details);
              if (this.view) this.schedule('view');
            }

            // ---- loading ----

            async loadView() {
              if (this.viewLoading) {
                this.viewAgain = true;
                return;
              }
              this.viewLoading = true;
              this.viewLoadedAt = Date.now();
              try {
                this.updateSummary(await api(appPath(this.name)));
              } catch (error) {
                notice(`${this.name}: ${error.message}`, true);
              } finally {
                this.viewLoading = false;
                if (this.viewAgain) {
                  this.viewAgain = false;
                  this.requestView();
                }
              }
            }

            /// A view refresh soon, at most one every VIEW_MIN_GAP_MS however many events arrive.
            requestView() {
              if (this.viewTimer) return;
              const wait = Math.max(0, VIEW_MIN_GAP_MS - (Date.now() - (this.viewLoadedAt || 0)));
              this.viewTimer = setTimeout(() => {
                this.viewTimer = null;
                if (this.details) this.loadView();
              }, wait);
            }

            async loadMetrics() {
              if (this.metricsLoading || document.hidden || !this.details) return;
              this.metricsLoading = true;
              try {
                const metrics = await api(`${appPath(this.name)}/metrics?seconds=${METRICS_SECONDS}`);
                if (this.details) {
                  this.metrics = metrics;
                  this.schedule('metrics');
                }
              } catch (error) {
                if (this.details) setText(this.parts.charts[0].legend, `metrics: ${error.message}`);
              } finally {
                this.metricsLoading = false;
              }
            }

            async loadTimeline(before, replace) {
              const timeline = this.timeline;
              if (!timeline || timeline.loading) return;
              timeline.loading = true;
              try {
                const query = `app=${encodeURIComponent(this.name)}&before=${before}&limit=${PAGE_SIZE}`;
                const page = await api(`/api/v1/events?${query}`);
                if (this.timeline !== timeline) return;
                const events = (page.events || []).slice().sort((a, b) => b.id - a.id);
                if (replace) {
                  timeline.events = events;
                  timeline.detached = false;
                  timeline.waiting = 0;
                } else {
                  const known = new Set(timeline.events.map((e) => e.id));
                  timeline.events.push(...events.filter((e) => !known.has(e.id)));
                  if (timeline.events.length > TIMELINE_CAP) {
                    // Paging far back: the DOM stays bounded by dropping the newest; "show latest" brings them back.
                    timeline.events.splice(0, timeline.events.length - TIMELINE_CAP);
                    timeline.detached = true;
                  }
                }
                timeline.next = page.next ?? null;
                this.schedule('timeline');
              } catch (error) {
                notice(`${this.name}: events: ${error.message}`, true);
              } finally {
                timeline.loading = false;
              }
            }

            loadOlder() {
              const timeline = this.timeline;
              if (!timeline || timeline.next === null) return;
              this.loadTimeline(timeline.next, false);
            }

            addLive(recorded) {
              const timeline = this.timeline;
              if (!timeline || typeof recorded.id !== 'number') return;
              if (timeline.detached) {
                timeline.waiting += 1;
              } else if (!timeline.events.length || recorded.id > timeline.events[0].id) {
                timeline.events.unshift(recorded);
                if (timeline.events.length > TIMELINE_CAP) {
                  timeline.events.length = TIMELINE_CAP;
                  timeline.next = timeline.events[TIMELINE_CAP - 1].id;
                }
              } else if (!timeline.events.some((e) => e.id === recorded.id)) {
                return;
              }
              this.schedule('timeline');
            }

            openStream() {
              if (typeof EventSource === 'undefined') return;
              const stream = new EventSource(`/api/v1/stream?app=${encodeURIComponent(this.name)}`);
              this.stream = stream;
              const onEvent = (message) => {
                let recorded;
                try {
                  recorded = JSON.parse(message.data);
                } catch (error) {
                  return;
                }
                this.addLive(recorded);
                this.requestView();
              };
              for (const kind of EVENT_KINDS) stream.addEventListener(kind, onEvent);
              stream.addEventListener('message', onEvent);
              stream.addEventListener('open', () => dashboard.streamStatus('live'));
              stream.addEventListener('error', () => {
                if (this.stream !== stream) return;
                if (stream.readyState === EventSource.CLOSED) {
                  // The browser gave up (an error status, or signed out): check the session, then try again later.
                  dashboard.streamStatus('disconnected');
                  api('/api/v1/apps').catch(() => {});
                  this.reopenTimer = setTimeout(() => {
                    if (this.stream === stream && this.details) this.openStream();
                  }, 5000);
                } else {
                  dashboard.streamStatus('reconnecting…');
                }
              });
            }

            async run(command) {
              const r = this.view && this.view.rollout;
              if (!window.confirm(command.question(this.name, r))) return;
              const result = this.parts.result;
              result.classList.remove('error');
              setText(result, `${command.name}: sending…`);
              try {
                const reply = await post(`${appPath(this.name)}/${command.name}`);
                if (!this.details) return;
                setText(result, reply.message || `${command.name}: ${reply.rollout ? reply.rollout.state : 'done'}`);
                result.dataset.outcome = 'ok';
              } catch (error) {
                if (!this.details) return;
                setText(result, `${command.name} refused: ${error.message}`);
                result.classList.add('error');
                result.dataset.outcome = 'error';
              }
              this.loadView();
            }

            // ---- drawing (at most once a frame) ----

            schedule(what) {
              this.dirty = this.dirty || new Set();
              this.dirty.add(what);
              if (this.frame) return;
              this.frame = requestAnimationFrame(() => {
                this.frame = null;
                const dirty = this.dirty;
                this.dirty = new Set();
                if (!this.details) return;
                if (dirty.has('view') && this.view) this.renderView();
                if ((dirty.has('metrics') || dirty.has('view')) && this.metrics) this.renderCharts();
                if (dirty.has('timeline')) this.renderTimeline();
              });
            }

            renderView() {
              const view = this.view;
              const d = this.parts;
              const weights = weightsOf(view);
              this.renderBar(d.bar, view, true);
              d.bar.setAttribute('aria-label', 'traffic: ' + versionsOf(view)
                .filter((v) => weights[v] > 0).map((v) => `${v} ${percent(weights[v])}%`).join(', '));

              const instances = view.instances || [];
              d.versions.replaceChildren(...versionsOf(view).map((version) => {
                const mine = instances.filter((i) => i.version === version);
                const healthy = mine.filter((i) => i.state === 'healthy').length;
                const role = version === view.stable ? 'stable' : (view.rollout && view.rollout.to === version
                  ? 'candidate' : '');
                return h('li', { 'data-testid': 'version', 'data-version-row': version },
                  h('span', { className: `swatch c${this.color(version)}`, 'aria-hidden': 'true' }),
                  h('strong', { text: version }), role ? h('span', { className: 'role', text: role }) : null,
                  h('span', { className: 'share', text: `${percent(weights[version] || 0)}% of traffic` }),
                  h('span', { className: 'count', text: `${healthy}/${mine.length} healthy` }));
              }));

              d.instances.replaceChildren(...instances.map((instance) => h('tr', {
                'data-instance': instance.id, 'data-state': instance.state, 'data-instance-version': instance.version,
              },
              h('th', { scope: 'row', text: instance.id }),
              h('td', {}, h('span', { className: `swatch c${this.color(instance.version)}`, 'aria-hidden': 'true' }),
                instance.version),
              h('td', {}, h('span', { className: `badge state-${instance.state}`, text: instance.state }),
                instance.ejected
                  ? h('span', { className: 'badge state-unhealthy', text: 'ejected', 'data-ejected': 'true' })
                  : null),
              h('td', { text: instance.pid ?? '' }),
              h('td', { text: instance.port ?? '' }),
              h('td', { text: instance.since ? clock(instance.since) : '' }),
              h('td', { text: instance.supervisorPid ?? '' }))));
              const planes = (view.dataPlane ? [view.dataPlane] : []).concat(view.hostDataPlanes || []);
              setText(d.dataPlane, planes.map(plane =>
                `data plane${plane.host ? ` on ${plane.host}` : ''}: pid ${plane.pid}, Slipway ${plane.build}, `
                  + `serving since ${clock(plane.since)}, `
                  + (plane.attached ? 'controller attached' : 'no controller attached')).join('; '));

              const r = view.rollout;
              const active = Boolean(r && !FINISHED.has(r.state));
              this.section.dataset.rolloutState = r ? r.state : 'none';
              setText(d.state, r ? r.state : 'none');
              d.state.className = `badge state-${r ? r.state : 'none'}`;
              setText(d.title, r ? `#${r.rollout} ${r.from} → ${r.to} (${r.strategy})` : 'No rollout yet.');
              d.report.hidden = !r;
              if (r) d.report.href = `/reports/${encodeURIComponent(this.name)}/${r.rollout}`;
              renderRelease(d.release, r && r.release);
              setText(d.step, r ? stepText(r) : '');
              let reason = '';
              if (r && r.waitingFor) reason = `waiting for: ${r.waitingFor}`;
              else if (r && r.reason) reason = active ? r.reason : `why: ${r.reason}`;
              setText(d.reason, reason);
              this.renderDeadline();
              setText(d.decision, view.lastDecision ? `last decision: ${view.lastDecision}` : '');
              const enabled = {
                promote: active, abort: active, pause: active && r.state !== 'paused',
                resume: active, rollback: Boolean(r || view.stable),
              };
              for (const [name, button] of d.buttons) button.disabled = !enabled[name];
              if (r && r.strategy === 'abTest') this.loadExperiment(r.rollout);
              else d.experiment.hidden = true;
            }

            // ---- the A/B experiment ----

            async loadExperiment(rollout) {
              if (this.experimentLoading) return;
              this.experimentLoading = true;
              try {
                const report = await api(`${appPath(this.name)}/experiment?rollout=${rollout}`);
                if (this.details) this.renderExperiment(report);
              } catch (error) {
                // Before the experiment step there is no report yet.
                if (this.details) this.parts.experiment.hidden = true;
              } finally {
                this.experimentLoading = false;
              }
            }

            renderExperiment(report) {
              const panel = this.parts.experiment;
              panel.hidden = false;
              const state = h('span', { className: `badge state-${report.state}`, text: report.state });
              const goals = (report.goals || []).map((goal) => {
                const rows = (goal.variants || []).map((v) => h('tr', { 'data-variant': v.name },
                  h('th', { scope: 'row', text: `${v.name} (${v.version})` }),
                  h('td', { text: String(v.units) }),
                  h('td', { text: v.mean === undefined || v.mean === null ? '–' : number(v.mean) }),
                  h('td', { text: v.lower === undefined || v.lower === null ? '–'
                    : `${number(v.lower)} … ${number(v.upper)}` })));
                const comparisons = (goal.comparisons || []).map((c) => {
                  const interval = c.lower === undefined || c.lower === null ? 'no estimate yet'
                    : `${number(c.difference)} (interval ${number(c.lower)} … ${number(c.upper)})`;
                  return h('p', { className: 'experiment-verdict', 'data-verdict': c.verdict },
                    h('span', { className: `badge verdict-${c.verdict}`, text: c.verdict }),
                    ` ${c.variant} − A: ${interval}; p ${number(c.pValue)} at α ${number(c.alpha)} — ${c.reason}`);
                });
                // One chart per variant compared with A (B, then C, … in an A/B/n test).
                const charts = (goal.comparisons || []).map((comparison) => {
                  const canvas = h('canvas', { role: 'img', 'data-testid': 'experiment-chart',
                    'aria-label': `${goal.name}: ${comparison.variant} − A with its interval over time` });
                  const figure = h('figure', { className: 'chart experiment-chart', 'data-goal': goal.name,
                    'data-compared': comparison.variant },
                    h('figcaption', { text: `${goal.name}: ${comparison.variant} − A and its interval over time` }),
                    canvas);
                  return { comparison, canvas, figure };
                });
                return { goal, charts, node: h('div', { className: 'experiment-goal', 'data-goal': goal.name },
                  h('h4', { text: `${goal.name} — ${goal.measure}; ${goal.better} is better` }),
                  h('table', { className: 'evidence' },
                    h('thead', {}, h('tr', {}, ...['variant', report.unit === 'user' ? 'users' : 'requests', 'mean', 'interval']
                      .map((name) => h('th', { scope: 'col', text: name })))),
                    h('tbody', {}, ...rows)),
                  ...comparisons, ...charts.map((chart) => chart.figure)) };
              });
              panel.replaceChildren(
                h('h3', { text: 'Experiment ' }, state),
                h('p', { className: 'experiment-summary', 'data-testid': 'experiment-summary', text: report.summary }),
                h('p', { className: 'experiment-split', text: `split: ${report.split ? report.split.summary : ''}` }),
                ...(report.conclusion ? [h('p', { text: `concluded: ${report.conclusion}` })] : []),
                ...goals.map((g) => g.node));
              for (const { goal, charts } of goals) {
                const base = goal.variants && goal.variants[0] ? Math.abs(goal.variants[0].mean || 0) : 0;
                for (const { comparison, canvas } of charts) {
                  drawInterval(canvas, comparison.history || [], goal.minimumEffect * base);
                }
              }
            }

            renderDeadline() {
              const r = this.view && this.view.rollout;
              const d = this.parts;
              if (!r || !r.deadline || FINISHED.has(r.state)) {
                setText(d.deadline, '');
                return;
              }
              const left = Date.parse(r.deadline) - Date.now();
              setText(d.deadline, Number.isNaN(left) ? `deadline: ${r.deadline}`
                : `deadline ${clock(r.deadline)} (${left > 0 ? `in ${duration(left)}` : 'passed'})`);
            }

            renderCharts() {
              const points = (this.metrics && this.metrics.points) || [];
              const now = points.length ? Math.max(Date.now(), Date.parse(points[points.length - 1].t)) : Date.now();
              const versions = new Set();
              for (const point of points) {
                for (const version of Object.keys(point.versions || {})) versions.add(version);
              }
              const ordered = [...versions].sort((a, b) => this.color(a) - this.color(b));
              for (const { chart, canvas, legend, figure } of this.parts.charts) {
                const series = ordered.map((version) => ({
                  version,
                  color: PALETTE[this.color(version)],
                  points: points
                    .filter((p) => p.versions && p.versions[version] &&
                      typeof p.versions[version][chart.key] === 'number')
                    .map((p) => [Date.parse(p.t), p.versions[version][chart.key]]),
                }));
                drawChart(canvas, chart, series, now);
                const latest = series.map((line) => {
                  const last = line.points[line.points.length - 1];
                  return { version: line.version, text: last ? `${chart.format(last[1])}${chart.unit}` : '–' };
                });
                legend.replaceChildren(...latest.map((item) => h('li', { 'data-version-value': item.version },
                  h('span', { className: `swatch c${this.color(item.version)}`, 'aria-hidden': 'true' }),
                  `${item.version} ${item.text}`)));
                canvas.setAttribute('aria-label', `${chart.title}: ` +
                  (latest.map((item) => `${item.version} ${item.text}`).join(', ') || 'no data yet'));
                figure.dataset.points = String(points.length);
              }
              const room = points.length ? points[points.length - 1].waitingRoom : null;
              this.parts.waitingRoom.hidden = !room;
              if (room) {
                const wait = room.meanWaitMs == null ? '' : `, mean wait ${Math.round(room.meanWaitMs)} ms`;
                setText(this.parts.waitingRoom, `waiting room: ${room.waiting} waiting, limit ${room.limit} in flight; `
                  + `${room.admittedPerSecond.toFixed(1)}/s let in after waiting${wait}; `
                  + `${room.refusedPerSecond.toFixed(1)}/s refused`);
              }
              this.renderDeadline();
            }

            renderTimeline() {
              const timeline = this.timeline;
              const d = this.parts;
              if (!timeline) return;
              let cursor = d.timeline.firstChild;
              const keep = new Set();
              for (const recorded of timeline.events) {
                keep.add(recorded.id);
                let node = timeline.nodes.get(recorded.id);
                if (!node) {
                  node = renderEvent(recorded);
                  timeline.nodes.set(recorded.id, node);
                }
                if (node === cursor) cursor = cursor.nextSibling;
                else d.timeline.insertBefore(node, cursor);
              }
              while (cursor) {
                const next = cursor.nextSibling;
                cursor.remove();
                cursor = next;
              }
              for (const id of [...timeline.nodes.keys()]) if (!keep.has(id)) timeline.nodes.delete(id);
              d.older.hidden = timeline.next === null;
              d.latest.hidden = !timeline.detached;
              setText(d.latest, timeline.waiting ? `${timeline.waiting} newer events: show the latest`
                : 'Show the latest');
              setText(d.count, `(${timeline.events.length} shown)`);
            }
          }

          // ---- events -----------------------------------------------------------------------------------------------

          const QUIET_FIELDS = new Set(['plan', 'env', 'checks', 'comparisons', 'rollout', 'app', 'report',
            'checkpoint']);

          function scalar(value) {
            if (value === null || value === undefined) return '';
            if (typeof value === 'object') {
              if (Array.isArray(value)) return value.map(scalar).join(', ');
              return Object.entries(value).map(([k, v]) => `${k} ${scalar(v)}`).join(', ');
            }
            const text = typeof value === 'number' ? number(value) : String(value);
            return text.length > 200 ? `${text.slice(0, 200)}…` : text;
          }

          // What a rollout ships: its commit, build and author as text, its source and changes as links.
          function renderRelease(node, release) {
            const parts = [];
            if (release) {
              for (const key of ['commit', 'build', 'author']) {
                if (release[key]) parts.push(document.createTextNode(`${key} ${release[key]}`));
              }
              for (const key of ['source', 'changes']) {
                if (release[key] && (release[key].startsWith('https://') || release[key].startsWith('http://'))) {
                  parts.push(h('a', { href: release[key], rel: 'noopener noreferrer', text: key }));
                }
              }
            }
            node.replaceChildren(...parts.flatMap((part, index) => (index ? [document.createTextNode(' · '), part] : [part])));
            node.hidden = parts.length === 0;
          }

          function describe(kind, f) {
            switch (kind) {
              case 'rolloutStarted':
                return `rollout #${f.rollout} ${f.from} → ${f.to} (${f.strategy})` + (f.by ? ` by ${f.by}` : '') +
                  (f.reason ? `: “${f.reason}”` : '') +
                  (f.release && f.release.commit ? ` [commit ${String(f.release.commit).slice(0, 12)}]` : '');
              case 'rolloutStepStarted':
                return stepText({ step: f.step, steps: f.steps, stepDescription: f.description });
              case 'trafficShifted':
                return Object.entries(f.weights || {}).map(([v, w]) => `${v} ${percent(w)}%`).join(' · ');
              case 'analysisJudged':
                return `${f.verdict || ''}${f.version ? ` for ${f.version}` : ''}${f.summary ? `: ${f.summary}` : ''}`;
              case 'rolloutRollingBack':
                return `going back${f.to ? ` to ${f.to}` : ''}: ${f.reason || f.outcome || ''}`;
              case 'rolloutFinished':
                return `${f.outcome}` + (f.stable ? `, ${f.stable} is stable` : '') +
                  (typeof f.durationMs === 'number' ? ` after ${duration(f.durationMs)}` : '') +
                  (f.reason ? `: ${f.reason}` : '');
              case 'rolloutPromoted':
                return `${f.to} takes all traffic`;
              case 'experimentUpdated':
                return f.summary || '';
              case 'experimentCheckpoint':
                return `${f.restored ? 'carried on after a restart' : 'counts so far kept'}: ${f.summary || ''}`;
              case 'experimentConcluded':
                return `${f.reason || ''}: ${f.summary || ''}`;
              case 'variantChosen':
                return `${f.by || 'a user'} kept variant ${f.variant} (${f.version})` +
                  (Array.isArray(f.others) && f.others.length ? `; ${f.others.join(', ')} stop` : '');
              default:
                return Object.entries(f).filter(([key]) => !QUIET_FIELDS.has(key))
                  .map(([key, value]) => `${key}=${scalar(value)}`).join(' ');
            }
          }

          function evidence(checks) {
            if (!Array.isArray(checks) || !checks.length) return null;
            const rows = checks.map((check) => h('tr', { 'data-verdict': check.verdict ?? '' },
              h('td', { text: check.check ?? '' }),
              h('td', {}, h('span', { className: `badge verdict-${check.verdict || ''}`, text: check.verdict ?? '' })),
              h('td', { text: check.value === undefined ? '' : scalar(check.value) }),
              h('td', { text: check.threshold === undefined ? '' : scalar(check.threshold) }),
              h('td', { text: check.requests === undefined ? '' : scalar(check.requests) +
                (check.minRequests === undefined ? '' : ` (min ${scalar(check.minRequests)})`) })));
            return h('table', { className: 'evidence', 'data-testid': 'evidence' },
              h('thead', {}, h('tr', {}, ...['check', 'verdict', 'value', 'threshold', 'requests']
                .map((name) => h('th', { scope: 'col', text: name })))),
              h('tbody', {}, ...rows));
          }

          // Comparisons with the stable version: standing, e-value against the threshold, p-value, the ratio's
          // interval and both samples.
          function comparisonEvidence(list) {
            if (!Array.isArray(list) || !list.length) return null;
            const sample = (s) => s ? `${scalar(s.events)} of ${scalar(s.requests)}` : '';
            const interval = (i) => Array.isArray(i) ? `${scalar(i[0])}×–${i[1] === null ? '∞' : `${scalar(i[1])}×`}` : '';
            const rows = list.map((c) => h('tr', { 'data-standing': c.standing ?? '' },
              h('td', { text: c.compare ?? '' }),
              h('td', {}, h('span', { className: `badge verdict-${c.standing === 'harm' ? 'fail' : 'pass'}`,
                text: c.standing ?? '' })),
              h('td', { text: c.maxEValue === undefined ? '' : `${scalar(c.maxEValue)} / ${scalar(c.threshold)}` }),
              h('td', { text: c.pValue === undefined ? '' : scalar(c.pValue) }),
              h('td', { text: interval(c.ratioInterval) }),
              h('td', { text: sample(c.candidate) }),
              h('td', { text: sample(c.baseline) })));
            return h('table', { className: 'evidence', 'data-testid': 'comparison-evidence' },
              h('thead', {}, h('tr', {}, ...['comparison', 'standing', 'e / needed', 'p', 'ratio interval',
                'candidate events', 'stable events'].map((name) => h('th', { scope: 'col', text: name })))),
              h('tbody', {}, ...rows));
          }

          function renderEvent(recorded) {
            const event = recorded.event || {};
            const fields = event.fields || {};
            const kind = event.kind || 'event';
            const verdict = fields.verdict || fields.outcome;
            return h('li', {
              className: `event kind-${kind}` + (verdict ? ` verdict-${verdict}` : ''),
              'data-kind': kind, 'data-event-id': recorded.id,
            },
            h('time', { datetime: recorded.time, text: clock(recorded.time) }),
            h('span', { className: 'kind', text: kind }),
            event.instance ? h('span', { className: 'instance', text: event.instance }) : null,
            h('span', { className: 'text', text: describe(kind, fields) }),
            evidence(fields.checks),
            comparisonEvidence(fields.comparisons));
          }

          // ---- the page ---------------------------------------------------------------------------------------------

          const dashboard = {
            cards: new Map(),
            current: null,

            start() {
              this.list = document.querySelector('[data-testid="apps"]');
              for (const section of document.querySelectorAll('section.app[data-app]')) {
                this.cards.set(section.dataset.app, new AppCard(section.dataset.app, section));
              }
              const signOut = document.querySelector('[data-action="sign-out"]');
              if (signOut && cookie('slipway_csrf')) {
                signOut.hidden = false;
                signOut.addEventListener('click', () => this.signOut());
              }
              window.addEventListener('resize', () => this.current && this.current.schedule('metrics'));
              window.addEventListener('hashchange', () => this.openFromHash());
              document.addEventListener('visibilitychange', () => {
                if (!document.hidden && this.current) this.current.loadMetrics();
              });
              this.refreshList().then(() => {
                if (!this.openFromHash()) {
                  const cards = [...this.cards.values()];
                  const busy = cards.find((c) => c.view && c.view.rollout && !FINISHED.has(c.view.rollout.state));
                  if (busy || cards[0]) this.open(busy || cards[0]);
                }
              });
              setInterval(() => this.refreshList(), LIST_EVERY_MS);
            },

            openFromHash() {
              const match = /^#app=(.+)$/.exec(location.hash);
              const card = match && this.cards.get(decodeURIComponent(match[1]));
              if (card && card !== this.current) this.open(card);
              return Boolean(card);
            },

            async refreshList() {
              let views;
              try {
                views = await api('/api/v1/apps');
              } catch (error) {
                notice(error.message, true);
                return;
              }
              notice('');
              for (const view of views) {
                let card = this.cards.get(view.name);
                if (!card) {
                  const section = h('section', { className: 'app', 'data-app': view.name });
                  this.list.append(section);
                  card = new AppCard(view.name, section);
                  this.cards.set(view.name, card);
                }
                card.updateSummary(view);
              }
              this.list.querySelector('.empty')?.remove();
            },

            toggle(card) {
              if (this.current === card) {
                card.close();
                this.current = null;
                history.replaceState(null, '', location.pathname);
              } else {
                this.open(card);
              }
            },

            open(card) {
              if (this.current) this.current.close();
              this.current = card;
              card.open();
              history.replaceState(null, '', `#app=${encodeURIComponent(card.name)}`);
            },

            streamStatus(text) {
              const node = document.querySelector('[data-testid="stream-status"]');
              if (node) setText(node, text);
            },

            async signOut() {
              try {
                await api('/logout', { method: 'POST', headers: { 'X-CSRF-Token': cookie('slipway_csrf') } });
              } catch (error) {
                // Signed out or not, the sign-in page is where to go.
              }
              location.assign('/login');
            },
          };

          // ---- chaos ------------------------------------------------------------------------------------------------

          /// The chaos panel: the faults in force (each removable), the experiments running, the monkeys, the latest
          /// kills, and the stop
          /// that removes every fault and holds every monkey.
          const chaos = {
            node: null,

            start() {
              this.node = document.querySelector('[data-testid="chaos"]');
              if (!this.node) return;
              this.node.hidden = false;
              this.refresh();
              setInterval(() => this.refresh(), CHAOS_EVERY_MS);
            },

            async refresh() {
              let status;
              try {
                status = await api('/api/v1/chaos');
              } catch (error) {
                return;
              }
              this.render(status);
            },

            render(status) {
              const state = this.node.querySelector('[data-testid="chaos-state"]');
              const faults = status.faults || [];
              const stopped = status.stopped;
              this.node.dataset.stopped = stopped ? 'true' : 'false';
              setText(
                state,
                stopped
                  ? `Chaos is stopped (by ${stopped.by}${stopped.reason ? `: ${stopped.reason}` : ''}): `
                    + 'no fault applies and no monkey acts until it is released.'
                  : faults.length === 0 ? 'No fault in force.' : `${faults.length} fault${faults.length === 1 ? '' : 's'} in force.`
              );
              const list = this.node.querySelector('[data-testid="chaos-faults"]');
              list.replaceChildren(...faults.map((fault) => h('li', { 'data-id': fault.id, 'data-app': fault.app },
                h('span', { text: `${fault.app} ${fault.id}: ${fault.summary} · ${number(fault.affected)} affected · until ${clock(fault.expiresAt)}` }),
                ' ',
                h('button', { type: 'button', text: 'Remove', 'data-action': 'chaos-remove', onclick: () => this.remove(fault) }),
              )));
              const experiments = (status.experiments || []).map((e) => `“${e.title}” since ${clock(e.startedAt)} by ${e.by}`);
              setText(this.node.querySelector('[data-testid="chaos-experiments"]'), experiments.length ? `Running: ${experiments.join(' · ')}` : '');
              const monkeys = (status.monkeys || []).map((m) => `${m.app}: ${m.enabled ? `${m.action}${m.leashed ? ' (leashed)' : ''}, ${m.schedule}` : 'off'}`
                + (m.plannedKill ? `, due ${clock(m.plannedKill)}` : ''));
              setText(this.node.querySelector('[data-testid="chaos-monkeys"]'), monkeys.length ? `Monkeys: ${monkeys.join(' · ')}` : '');
              const kills = (status.kills || []).slice(-3).reverse().map((k) => `${clock(k.at)} ${k.instance} ${k.hangMs ? `froze ${k.hangMs} ms` : k.signal}${k.leashed ? ' (leashed)' : ''}`);
              setText(this.node.querySelector('[data-testid="chaos-kills"]'), kills.length ? `Latest kills: ${kills.join(' · ')}` : '');
              this.node.querySelector('[data-action="chaos-stop"]').hidden = Boolean(stopped);
              this.node.querySelector('[data-action="chaos-release"]').hidden = !stopped;
            },

            async stopAll() {
              if (!window.confirm('Stop all chaos? Every fault of every app is removed now, and no fault or monkey acts until chaos is released.')) return;
              await this.send('/api/v1/chaos/stop', 'POST');
            },

            async release() {
              await this.send('/api/v1/chaos/release', 'POST');
            },

            async remove(fault) {
              await this.send(`${appPath(fault.app)}/faults/${encodeURIComponent(fault.id)}`, 'DELETE');
            },

            async send(path, method) {
              try {
                await api(path, {
                  method,
                  headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('slipway_csrf') },
                  body: '{}',
                });
                notice('');
              } catch (error) {
                notice(error.message, true);
              }
              await this.refresh();
            },
          };

          function startAll() {
            dashboard.start();
            chaos.start();
            document.querySelector('[data-action="chaos-stop"]')?.addEventListener('click', () => chaos.stopAll());
            document.querySelector('[data-action="chaos-release"]')?.addEventListener('click', () => chaos.release());
          }

          if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startAll);
          else startAll();
        })();
        """#
}
