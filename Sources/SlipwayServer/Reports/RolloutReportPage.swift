import Foundation
import SlipwayCore

extension RolloutReport {
    /// The report as one self-contained HTML page (``RolloutReportPage``).
    public func htmlPage() -> String {
        RolloutReportPage.render(self, jsonPath: ReportRoutes.jsonPath(app: app, rollout: rollout))
    }
}

/// A rollout report as one self-contained HTML page: styles inline, charts as inline SVG, no script and nothing
/// loaded from elsewhere, so that it can be saved, mailed or attached to an incident as it is.
enum RolloutReportPage {
    /// The policy the page is served with: its own inline styles, nothing else.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        + "frame-ancestors 'none'"

    /// Points per line at most; longer series are merged into this many intervals.
    static let maximumPoints = 300

    static let palette = ["#3b6fb6", "#e0672b", "#2f9e6a", "#8c5bc4", "#c2417a", "#6b7a89", "#b59a1e", "#1e9eb5"]

    /// The page; `jsonPath` is where the same facts are served as JSON.
    static func render(_ report: RolloutReport, jsonPath: String) -> String {
        let record = report.record
        let title = "\(report.app) · rollout #\(report.rollout) · \(record.from) → \(record.to)"
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escape(title))</title>
            <style>\(style)</style></head>
            <body>
            <header>
            <h1>\(HTMLText.escape(title)) <span class="outcome \(outcomeClass(record))" data-testid="outcome">\
            \(HTMLText.escape(outcomeText(record)))</span></h1>
            \(summary(report))
            </header>\n
            """
        html += release(record)
        html += charts(report)
        html += decisions(report)
        html += failedRequests(report)
        html += standardError(report)
        html += timeline(report)
        html += """
            <footer>Generated \(HTMLText.escape(EventFormatter.timestamp(Date()))) UTC by Slipway \
            \(HTMLText.escape(SlipwayBuild.version)). The same facts as JSON: \
            <a href="\(HTMLText.escape(jsonPath))">\(HTMLText.escape(jsonPath))</a>. Times are UTC.</footer>
            </body></html>\n
            """
        return html
    }

    // MARK: Sections

    private static func summary(_ report: RolloutReport) -> String {
        let record = report.record
        var facts: [(String, String)] = [
            ("Strategy", record.strategy),
            ("Started", "\(EventFormatter.timestamp(record.startedAt)) by \(record.by.isEmpty ? "?" : record.by)"),
        ]
        if let reason = record.reason { facts.append(("Reason", reason)) }
        if let ended = record.endedAt {
            facts.append(
                ("Ended", "\(EventFormatter.timestamp(ended)), after \(duration(ended, since: record.startedAt))")
            )
        } else {
            facts.append(
                ("State", "\(record.state), step \(record.step + 1) of \(record.steps): \(record.stepDescription)")
            )
        }
        if let variants = record.variants, !variants.isEmpty {
            facts.append(("Other variants", variants.joined(separator: ", ")))
        }
        var html = "<dl class=\"facts\" data-testid=\"summary\">"
        for (label, value) in facts {
            html += "<dt>\(HTMLText.escape(label))</dt><dd>\(HTMLText.escape(value))</dd>"
        }
        html += "</dl>\n"
        if let why = record.endReason, record.outcome != "promoted" {
            html +=
                "<p class=\"why\" data-testid=\"why\"><strong>Why it went back:</strong> \(HTMLText.escape(why))</p>\n"
        }
        return html
    }

    private static func release(_ record: RolloutRecord) -> String {
        let lines = record.release?.lines ?? []
        let empty = lines.isEmpty ? "The deploy gave no release metadata (commit, build, links, author)." : nil
        return section("release", "What was shipped", empty: empty) {
            var html = "<dl class=\"facts\">"
            for (label, value) in lines {
                let shown =
                    isLink(value)
                    ? "<a href=\"\(HTMLText.escape(value))\" rel=\"noreferrer\">\(HTMLText.escape(value))</a>"
                    : "<code>\(HTMLText.escape(value))</code>"
                html +=
                    "<dt>\(HTMLText.escape(label))</dt><dd data-field=\"\(HTMLText.escape(label.lowercased()))\">\(shown)</dd>"
            }
            return html + "</dl>"
        }
    }

    private static func charts(_ report: RolloutReport) -> String {
        let empty = report.traffic.isEmpty ? "No traffic was recorded for this rollout." : nil
        return section("traffic", "Traffic by version", empty: empty) { chartsContent(report) }
    }

    private static func chartsContent(_ report: RolloutReport) -> String {
        var html = ""
        let colors = Dictionary(
            uniqueKeysWithValues: report.traffic.enumerated().map { ($1.version, palette[$0 % palette.count]) }
        )
        html += "<ul class=\"legend\">"
        for version in report.traffic {
            html += "<li><span class=\"swatch\" style=\"background:\(colors[version.version]!)\"></span>"
            html += "\(HTMLText.escape(version.version)) <small>(\(version.role))</small></li>"
        }
        html += "</ul>\n"
        let start = report.record.startedAt
        let lastPoint = report.traffic.compactMap { $0.points.last?.time }.max() ?? start
        let end = max(lastPoint, report.record.endedAt ?? lastPoint, start.addingTimeInterval(10))
        let marks = report.timeline.compactMap { entry -> ReportChart.Mark? in
            switch entry.kind {
            case "trafficShifted", "rolloutRollingBack", "rolloutPromoted", "rolloutFinished":
                return ReportChart.Mark(time: entry.time, label: entry.text, alarming: entry.alarming)
            default:
                return nil
            }
        }
        let merged = report.traffic.map { ($0, merge($0.points)) }
        func chart(
            _ title: String,
            id: String,
            minimumTop: Double,
            unit: @escaping (Double) -> String,
            value: @escaping (RolloutReport.VersionTraffic.Point) -> Double?
        ) -> String {
            let series = merged.map { version, points in
                ReportChart.Series(
                    version: version.version,
                    color: colors[version.version]!,
                    values: points.map { ($0.time, value($0)) }
                )
            }
            let chart = ReportChart(
                title: title,
                unit: unit,
                series: series,
                marks: marks,
                start: start,
                end: end,
                minimumTop: minimumTop
            )
            return "<figure><figcaption>\(HTMLText.escape(title))</figcaption>\(chart.svg(id: id))</figure>\n"
        }
        html += chart("Requests per second", id: "chart-rps", minimumTop: 1, unit: number, value: \.rps)
        html += chart("Error rate (5xx)", id: "chart-errors", minimumTop: 0.01, unit: percent, value: \.errorRate)
        html += chart("p99 latency", id: "chart-p99", minimumTop: 10, unit: { "\(number($0)) ms" }, value: \.p99Ms)
        html += "<table class=\"totals\"><thead><tr><th>Version</th><th>Requests</th><th>5xx</th><th>Error rate</th>"
        html += "<th>Worst p99</th></tr></thead><tbody>"
        for version in report.traffic {
            let rate = version.requests > 0 ? percent(Double(version.errors) / Double(version.requests)) : "–"
            html +=
                "<tr data-version=\"\(HTMLText.escape(version.version))\"><td>\(HTMLText.escape(version.version))</td>"
            html += "<td>\(version.requests)</td><td>\(version.errors)</td><td>\(rate)</td>"
            html += "<td>\(version.worstP99Ms.map { "\(number($0)) ms" } ?? "–")</td></tr>"
        }
        return html + "</tbody></table>"
    }

    private static func decisions(_ report: RolloutReport) -> String {
        let empty = report.decisions.isEmpty ? "No decision was recorded." : nil
        return section("decisions", "Decisions and their evidence", empty: empty) { decisionsContent(report) }
    }

    private static func decisionsContent(_ report: RolloutReport) -> String {
        var html = ""
        for decision in report.decisions {
            let bad = ["fail", "rolledBack", "aborted", "failed", "timedOut"].contains(decision.verdict)
            html += "<article class=\"decision\(bad ? " bad" : "")\" data-kind=\"\(HTMLText.escape(decision.kind))\" "
            html += "data-verdict=\"\(HTMLText.escape(decision.verdict))\">"
            html +=
                "<h3><span class=\"offset\">+\(ReportChart.elapsed(decision.time.timeIntervalSince(report.record.startedAt)))</span> "
            html += "\(HTMLText.escape(decision.kind)): <strong>\(HTMLText.escape(decision.verdict))</strong></h3>"
            if !decision.summary.isEmpty { html += "<p>\(HTMLText.escape(decision.summary))</p>" }
            if !decision.checks.isEmpty {
                html += "<table><thead><tr><th>Check</th><th>Measured</th><th>Bound</th><th>Requests</th><th></th></tr>"
                html += "</thead><tbody>"
                for check in decision.checks {
                    html +=
                        "<tr class=\"\(check.passed ? "pass" : "fail")\"><td><code>\(HTMLText.escape(check.check))</code></td>"
                    html += "<td>\(HTMLText.escape(check.value))</td><td>\(HTMLText.escape(check.threshold))</td>"
                    html +=
                        "<td>\(check.samples.map(String.init) ?? "–")</td><td>\(check.passed ? "passed" : "failed")</td></tr>"
                }
                html += "</tbody></table>"
            }
            html += "</article>\n"
        }
        return html
    }

    private static func failedRequests(_ report: RolloutReport) -> String {
        let versions = report.candidates.joined(separator: ", ")
        let empty = report.failedRequests.isEmpty ? "No request to \(versions) was answered 5xx." : nil
        return section("failed-requests", "The candidate's failed requests", empty: empty) {
            failedRequestsContent(report)
        }
    }

    private static func failedRequestsContent(_ report: RolloutReport) -> String {
        var html = "<p>The newest \(report.failedRequests.count) of the candidate's requests answered 5xx. The rollout "
        html += "recorded \(report.failedRequestsRecorded) such requests across all versions (at most "
        html += "\(RolloutEvidence.failureCap) are kept). Paths are shown without their query; no body, cookie or "
        html += "header other than the request id is kept.</p>"
        html += "<table class=\"requests\"><thead><tr><th>Time</th><th>Version</th><th>Instance</th><th>Request</th>"
        html += "<th>Status</th><th>Latency</th><th>Request id</th></tr></thead><tbody>"
        for request in report.failedRequests {
            let time = Date(timeIntervalSince1970: Double(request.timeNs) / 1e9)
            html += "<tr data-request-id=\"\(HTMLText.escape(request.requestID))\">"
            html += "<td>\(HTMLText.escape(String(EventFormatter.timestamp(time).dropFirst(11))))</td>"
            html += "<td>\(HTMLText.escape(request.version))</td><td>\(HTMLText.escape(request.instance))</td>"
            html += "<td><code>\(HTMLText.escape(request.method)) \(HTMLText.escape(request.path))</code></td>"
            html += "<td class=\"status\">\(request.status)"
            if let error = request.proxyError { html += " <small>(proxy: \(HTMLText.escape(error)))</small>" }
            html +=
                "</td><td>\(number(request.latencyMs)) ms</td><td><code>\(HTMLText.escape(request.requestID))</code></td></tr>"
        }
        return html + "</tbody></table>"
    }

    private static func standardError(_ report: RolloutReport) -> String {
        let empty = report.stderr.isEmpty ? "No instance of the candidate left standard error behind." : nil
        return section("stderr", "What the candidate's instances wrote to standard error", empty: empty) {
            var html = ""
            for output in report.stderr {
                let when = output.when == "crash" ? "when it exited" : "when the verdict was reached"
                html += "<h3 data-instance=\"\(HTMLText.escape(output.instance))\">\(HTMLText.escape(output.instance)) "
                let count = output.lines.count == 1 ? "its last line" : "its last \(output.lines.count) lines"
                html += "(\(HTMLText.escape(output.version))), \(when), \(count)</h3>"
                html +=
                    output.lines.isEmpty
                    ? "<p class=\"none\">Nothing.</p>"
                    : "<pre>\(HTMLText.escape(output.lines.joined(separator: "\n")))</pre>"
            }
            return html
        }
    }

    private static func timeline(_ report: RolloutReport) -> String {
        section("timeline", "Timeline", empty: nil) {
            var html = "<table class=\"timeline\"><tbody>"
            for entry in report.timeline {
                html += "<tr class=\"\(entry.alarming ? "alarm" : "")\" data-kind=\"\(entry.kind)\">"
                html +=
                    "<td class=\"offset\">+\(ReportChart.elapsed(entry.time.timeIntervalSince(report.record.startedAt)))</td>"
                html += "<td>\(HTMLText.escape(entry.text))</td></tr>"
            }
            return html + "</tbody></table>"
        }
    }

    // MARK: Helpers

    /// A section of the page: `title`, then `content`, or `empty` in italics when there is nothing to show.
    private static func section(_ id: String, _ title: String, empty: String?, _ content: () -> String) -> String {
        let body = empty.map { "<p class=\"none\">\(HTMLText.escape($0))</p>" } ?? content()
        return "<section data-testid=\"\(id)\"><h2>\(HTMLText.escape(title))</h2>\(body)</section>\n"
    }

    /// Points merged into at most ``maximumPoints`` intervals: counts add up, p99 keeps the worst.
    static func merge(_ points: [RolloutReport.VersionTraffic.Point]) -> [RolloutReport.VersionTraffic.Point] {
        guard points.count > maximumPoints else { return points }
        let size = Int((Double(points.count) / Double(maximumPoints)).rounded(.up))
        return stride(from: 0, to: points.count, by: size).map { start in
            let slice = points[start..<min(points.count, start + size)]
            return RolloutReport.VersionTraffic.Point(
                time: slice.last!.time,
                seconds: slice.reduce(0) { $0 + $1.seconds },
                requests: slice.reduce(0) { $0 + $1.requests },
                errors: slice.reduce(0) { $0 + $1.errors },
                p99Ms: slice.compactMap(\.p99Ms).max()
            )
        }
    }

    private static func isLink(_ value: String) -> Bool {
        value.hasPrefix("https://") || value.hasPrefix("http://")
    }

    private static func outcomeText(_ record: RolloutRecord) -> String {
        switch record.outcome {
        case "rolledBack": return "rolled back"
        case let outcome?: return outcome
        case nil: return record.state == "rollingBack" ? "rolling back" : record.state
        }
    }

    private static func outcomeClass(_ record: RolloutRecord) -> String {
        switch record.outcome ?? record.state {
        case "promoted": return "good"
        case "rolledBack", "rollingBack": return "bad"
        case "aborted", "superseded": return "warn"
        default: return "live"
        }
    }

    private static func duration(_ end: Date, since start: Date) -> String {
        ReportChart.elapsed(end.timeIntervalSince(start))
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return value >= 100
            ? String(format: "%.0f", value)
            : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func percent(_ fraction: Double) -> String {
        "\(number(fraction * 100))%"
    }

    static let style = """
        :root { color-scheme: light; --bad: #b42318; --good: #18794e; --warn: #a15c00; --muted: #5d6b7a; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1c2530; margin: 0 auto;
          max-width: 960px; padding: 24px; }
        h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px;
          border-bottom: 1px solid #dde3ea; padding-bottom: 4px; } h3 { font-size: 14px; margin: 12px 0 4px; }
        .outcome { font-size: 13px; padding: 2px 8px; border-radius: 10px; vertical-align: middle; color: #fff; }
        .outcome.good { background: var(--good); } .outcome.bad { background: var(--bad); }
        .outcome.warn { background: var(--warn); } .outcome.live { background: #3b6fb6; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
        dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
        .why { background: #fdecea; border-left: 4px solid var(--bad); padding: 8px 12px; }
        .none { color: var(--muted); font-style: italic; }
        figure { margin: 8px 0 16px; } figcaption { font-weight: 600; margin-bottom: 2px; }
        svg.chart { width: 100%; height: auto; background: #fbfcfd; border: 1px solid #e4e9ef; }
        svg .grid { stroke: #e4e9ef; } svg .axis { font-size: 11px; fill: var(--muted); }
        svg .mark { stroke: #9aa7b4; stroke-dasharray: 3 3; } svg .mark.alarm { stroke: var(--bad); stroke-width: 2; }
        svg .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
        .legend { list-style: none; padding: 0; display: flex; gap: 16px; }
        .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px;
          vertical-align: -1px; }
        table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef1f4; vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        tr.fail td, tr.alarm td { color: var(--bad); } td.status { font-weight: 600; color: var(--bad); }
        .decision { border: 1px solid #e4e9ef; border-radius: 6px; padding: 4px 12px; margin: 8px 0; }
        .decision.bad { border-color: #f3b8b2; background: #fffafa; }
        .offset { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
        pre { background: #1c2530; color: #e8edf2; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
          font-size: 12px; }
        code { font-size: 12px; overflow-wrap: anywhere; }
        footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
        """
}
