/// The dashboard's style sheet (`/dashboard.css`).
enum DashboardStyle {
    /// The file, served as is.
    static let text = #"""
        :root {
          --text: #111827;
          --muted: #6b7280;
          --line: #e5e7eb;
          --panel: #ffffff;
          --page: #f3f4f6;
          --good: #15803d;
          --bad: #b91c1c;
          --warn: #b45309;
          --info: #1d4ed8;
          color-scheme: light;
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
          color: var(--text);
          background: var(--page);
        }
        body { margin: 0; }
        .visually-hidden {
          position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
        }
        .top {
          display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #111827; color: #f9fafb;
        }
        .top h1 { font-size: 18px; margin: 0; letter-spacing: 0.02em; }
        .top .stream { font-size: 12px; color: #9ca3af; margin-left: auto; }
        .top .sign-out { background: transparent; color: #f9fafb; border-color: #4b5563; }
        main { max-width: 1280px; margin: 0 auto; padding: 12px 20px 40px; }
        .notice:empty { display: none; }
        .notice { margin: 0 0 8px; padding: 6px 10px; border-radius: 6px; background: #eff6ff; }
        .notice.error { background: #fef2f2; color: var(--bad); }
        .apps { display: flex; flex-direction: column; gap: 6px; }
        .chaos {
          background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px;
          margin-bottom: 8px;
        }
        .chaos[data-stopped="true"] { border-color: #fca5a5; background: #fef2f2; }
        .chaos-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; min-height: 32px; }
        .chaos-title { margin: 0; font-size: 15px; }
        .chaos-state { color: var(--muted); margin-right: auto; }
        .chaos-faults { margin: 4px 0; padding-left: 18px; }
        .chaos-faults:empty, .chaos-line:empty { display: none; }
        .chaos-line { margin: 2px 0; color: var(--muted); font-size: 13px; }
        .app { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
        .app.open { border-color: #93c5fd; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.06); padding-bottom: 12px; }
        .app-head { display: flex; align-items: center; gap: 10px; min-height: 32px; flex-wrap: wrap; }
        .app-name { margin: 0; font-size: 16px; }
        .app h3.app-name { font-size: 16px; }
        .toggle {
          font: inherit; font-weight: 600; background: none;
          border: 0; padding: 2px 4px; cursor: pointer; color: inherit;
        }
        .toggle::before { content: "▸"; display: inline-block; width: 1em; color: var(--muted); }
        .toggle[aria-expanded="true"]::before { content: "▾"; }
        .app-line, .weights-text, .rollout-line { color: var(--muted); font-size: 13px; }
        .app > .app-line, .app > .weights-text, .app > .rollout-line { margin: 2px 0; }
        .weights-svg { width: 240px; height: 10px; display: block; border-radius: 3px; }
        .mini-bar {
          display: inline-flex; width: 120px; height: 8px;
          border-radius: 4px; overflow: hidden; background: var(--line);
        }
        .mini-bar .segment { display: block; height: 100%; }
        button {
          font: inherit; font-size: 13px; padding: 4px 12px; border-radius: 6px; border: 1px solid #d1d5db;
          background: #fff; color: var(--text); cursor: pointer;
        }
        button:hover:not(:disabled) { background: #f9fafb; }
        button:focus-visible, .toggle:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
        button:disabled { opacity: 0.45; cursor: not-allowed; }
        button.danger { color: var(--bad); border-color: #fca5a5; }
        .details { margin-top: 8px; display: flex; flex-direction: column; gap: 12px; }
        .row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
        @media (max-width: 900px) { .row { grid-template-columns: 1fr; } }
        .panel {
          border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fcfcfd; min-width: 0;
        }
        .panel h3 {
          font-size: 13px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); margin: 0 0 8px;
        }
        .bar {
          display: flex; height: 28px; border-radius: 6px; overflow: hidden; background: var(--line);
        }
        .bar .segment {
          display: flex; align-items: center; justify-content: center; height: 100%; min-width: 2px; overflow: hidden;
          color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; transition: width 0.4s ease;
        }
        .versions { list-style: none; padding: 0; margin: 8px 0 0; }
        .versions li { display: flex; gap: 10px; align-items: center; padding: 2px 0; }
        .versions .role {
          font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px;
        }
        .versions .share { margin-left: auto; font-variant-numeric: tabular-nums; }
        .versions .count {
          color: var(--muted); font-variant-numeric: tabular-nums; min-width: 80px; text-align: right;
        }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
        .c0 { background: #2563eb; fill: #2563eb; }
        .c1 { background: #ea580c; fill: #ea580c; }
        .c2 { background: #16a34a; fill: #16a34a; }
        .c3 { background: #9333ea; fill: #9333ea; }
        .c4 { background: #0891b2; fill: #0891b2; }
        .c5 { background: #ca8a04; fill: #ca8a04; }
        .c6 { background: #db2777; fill: #db2777; }
        .c7 { background: #4b5563; fill: #4b5563; }
        .rollout p { margin: 4px 0; }
        .rollout p:empty { display: none; }
        .rollout-title { font-weight: 600; }
        .rollout-step { font-size: 15px; }
        .rollout-reason, .rollout-deadline, .last-decision { color: var(--muted); }
        .actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
        .action-abort:not(:disabled), .action-rollback:not(:disabled) { border-color: #fca5a5; color: var(--bad); }
        .action-promote:not(:disabled) { border-color: #86efac; color: var(--good); }
        .action-result { font-size: 13px; }
        .action-result.error { color: var(--bad); }
        .badge {
          display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 999px;
          background: #e5e7eb; color: #374151; text-transform: none; letter-spacing: 0;
        }
        .badge:empty { display: none; }
        .state-healthy, .state-steady, .state-promoted, .verdict-pass, .verdict-better {
          background: #dcfce7; color: var(--good);
        }
        .state-starting, .state-running, .state-pending { background: #dbeafe; color: var(--info); }
        .state-paused, .state-stopping, .verdict-inconclusive, .state-degraded {
          background: #fef3c7; color: var(--warn);
        }
        .state-unhealthy, .state-rollingBack, .state-rolledBack, .state-aborted, .verdict-fail, .verdict-worse {
          background: #fee2e2; color: var(--bad);
        }
        .state-superseded, .state-none, .verdict-noMeaningfulDifference, .state-concluded {
          background: #f3f4f6; color: var(--muted);
        }
        .experiment-goal { margin-top: 8px; }
        .experiment-goal h4 { font-size: 13px; margin: 8px 0 4px; }
        .experiment-verdict { font-size: 13px; margin: 4px 0; }
        .experiment-chart { max-width: 640px; margin-top: 6px; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
        thead th { color: var(--muted); font-weight: 500; }
        tbody th { font-weight: 500; }
        .chart-row { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; }
        @media (max-width: 900px) { .chart-row { grid-template-columns: 1fr; } }
        .chart { margin: 0; min-width: 0; }
        .chart figcaption { font-size: 12px; font-weight: 600; margin-bottom: 4px; }
        .chart canvas { display: block; width: 100%; height: 140px; }
        .legend {
          list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px;
        }
        .legend li { font-variant-numeric: tabular-nums; }
        .timeline {
          list-style: none; padding: 0; margin: 0;
          max-height: 460px; overflow-y: auto; border-top: 1px solid var(--line);
        }
        .event {
          display: grid; grid-template-columns: 92px 150px minmax(0, 1fr); column-gap: 8px; padding: 4px 0;
          border-bottom: 1px solid var(--line); font-size: 13px; align-items: baseline;
        }
        .event time { color: var(--muted); font-variant-numeric: tabular-nums; }
        .event .kind { font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
        .event .instance { grid-column: 3; color: var(--muted); font-size: 12px; }
        .event .text { grid-column: 3; overflow-wrap: anywhere; }
        .event .evidence { grid-column: 2 / 4; margin: 4px 0; width: auto; }
        .event.kind-rolloutRollingBack .kind, .event.verdict-fail .kind { color: var(--bad); }
        .event.kind-rolloutFinished.verdict-promoted .kind, .event.kind-rolloutPromoted .kind { color: var(--good); }
        .event.kind-rolloutStarted .kind, .event.kind-trafficShifted .kind { color: var(--info); }
        .timeline-count { text-transform: none; letter-spacing: 0; font-weight: 400; }
        .older, .latest { margin-top: 8px; }
        .latest { margin: 0 0 8px; }
        .empty { color: var(--muted); }
        """#
}
