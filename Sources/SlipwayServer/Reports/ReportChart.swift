import Foundation

/// A line chart drawn as inline SVG on the server: one line per version over the rollout's time, with marks where the
/// traffic split changed and where the rollout went back. No script, no external resource.
struct ReportChart {
    /// One line.
    struct Series {
        var version: String
        var color: String
        /// (time, value) pairs, oldest first; nil values break the line.
        var values: [(time: Date, value: Double?)]
    }

    /// A vertical mark.
    struct Mark {
        var time: Date
        var label: String
        var alarming: Bool
    }

    var title: String
    /// How values are written on the axis: `12.5`, `3%`, `250 ms`.
    var unit: (Double) -> String
    var series: [Series]
    var marks: [Mark]
    var start: Date
    var end: Date
    /// A floor for the axis' top, so that a flat zero line does not fill the chart.
    var minimumTop: Double

    static let width = 880.0
    static let height = 200.0
    private static let left = 64.0
    private static let right = 16.0
    private static let top = 16.0
    private static let bottom = 28.0

    /// The chart as an `<svg>` element, described for screen readers by its title.
    func svg(id: String) -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let span = max(1, end.timeIntervalSince(start))
        let highest = series.flatMap { $0.values.compactMap(\.value) }.max() ?? 0
        let axisTop = Self.niceCeiling(max(highest, minimumTop))
        func x(_ time: Date) -> Double { Self.left + plotWidth * min(1, max(0, time.timeIntervalSince(start) / span)) }
        func y(_ value: Double) -> Double { Self.top + plotHeight * (1 - min(1, max(0, value / axisTop))) }

        var out = """
            <svg id="\(id)" class="chart" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" role="img" \
            aria-label="\(HTMLText.escape(title))" xmlns="http://www.w3.org/2000/svg">
            <title>\(HTMLText.escape(title))</title>\n
            """
        // Grid and axis labels: four steps up, time every quarter.
        for step in 0...4 {
            let value = axisTop * Double(step) / 4
            let lineY = Self.format(y(value))
            out += "<line class=\"grid\" x1=\"\(Int(Self.left))\" x2=\"\(Int(Self.width - Self.right))\" "
            out += "y1=\"\(lineY)\" y2=\"\(lineY)\"/>"
            out += "<text class=\"axis\" x=\"\(Int(Self.left - 6))\" y=\"\(Self.format(y(value) + 4))\" "
            out += "text-anchor=\"end\">\(HTMLText.escape(unit(value)))</text>\n"
        }
        for quarter in 0...4 {
            let time = start.addingTimeInterval(span * Double(quarter) / 4)
            let anchor = quarter == 0 ? "start" : quarter == 4 ? "end" : "middle"
            out += "<text class=\"axis\" x=\"\(Self.format(x(time)))\" y=\"\(Int(Self.height - 8))\" "
            out += "text-anchor=\"\(anchor)\">+\(Self.elapsed(time.timeIntervalSince(start)))</text>\n"
        }
        for mark in marks {
            let markX = Self.format(x(mark.time))
            out += "<line class=\"mark\(mark.alarming ? " alarm" : "")\" x1=\"\(markX)\" x2=\"\(markX)\" "
            out += "y1=\"\(Int(Self.top))\" y2=\"\(Int(Self.height - Self.bottom))\">"
            out += "<title>\(HTMLText.escape(mark.label))</title></line>\n"
        }
        for line in series {
            var segments: [[String]] = [[]]
            for (time, value) in line.values {
                guard let value else {
                    if !(segments.last?.isEmpty ?? true) { segments.append([]) }
                    continue
                }
                segments[segments.count - 1].append("\(Self.format(x(time))),\(Self.format(y(value)))")
            }
            for segment in segments where !segment.isEmpty {
                let points = segment.count == 1 ? segment + segment : segment
                out += "<polyline class=\"series\" data-version=\"\(HTMLText.escape(line.version))\" "
                out += "stroke=\"\(line.color)\" points=\"\(points.joined(separator: " "))\"/>\n"
            }
        }
        out += "</svg>"
        return out
    }

    /// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (1 for 0).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, (log10(value)).rounded(.down))
        for factor in [1.0, 2, 2.5, 5, 10] where factor * power >= value * 0.999_999 {
            return factor * power
        }
        return 10 * power
    }

    /// `42s`, `3m05s`, `1h02m`.
    static func elapsed(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3_600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3_600, (total % 3_600) / 60)
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
