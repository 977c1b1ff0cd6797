import Foundation
import SlipwayEngine

extension ExperimentReport {
    /// The report for people, as `slipway experiment` prints it.
    public var lines: [String] {
        let names = goals.first?.variants.map { "\($0.name) = \($0.version)" }.joined(separator: ", ") ?? ""
        var lines = ["\(app): experiment of rollout #\(rollout) (\(names)), \(stateText)"]
        lines.append(summary)
        lines.append("split: \(split.summary)")
        for goal in goals {
            lines.append("")
            lines.append(
                "\(goal.name): \(goal.measure); \(goal.better) is better; minimum effect "
                    + Self.number(goal.minimumEffect * 100) + "%"
            )
            for variant in goal.variants {
                var line = "  \(variant.name)  \(variant.version)  \(variant.units) \(unit ?? "request")s"
                if let mean = variant.mean { line += "  \(Self.value(mean, goal: goal.name))" }
                if let lower = variant.lower, let upper = variant.upper {
                    line += "  [\(Self.value(lower, goal: goal.name)) … \(Self.value(upper, goal: goal.name))]"
                }
                lines.append(line)
            }
            for comparison in goal.comparisons {
                var line = "  \(comparison.variant) − A: "
                if let difference = comparison.difference, let lower = comparison.lower, let upper = comparison.upper {
                    line +=
                        "\(Self.signed(difference, goal: goal.name)) (interval \(Self.signed(lower, goal: goal.name))"
                        + " … \(Self.signed(upper, goal: goal.name)))"
                    if let relative = comparison.relative { line += ", \(Self.signedPercent(relative)) of A" }
                    if let eValue = comparison.eValue {
                        line += "; e = \(Self.number(eValue)), p = \(Self.number(comparison.pValue))"
                    }
                    line += " at α = \(Self.number(comparison.alpha * 100))%"
                } else {
                    line += "no estimate yet"
                }
                line += ": \(comparison.verdict.text) (\(comparison.reason))"
                lines.append(line)
            }
        }
        lines.append("")
        lines.append("assumptions:")
        lines += assumptions.map { "  - \($0)" }
        return lines
    }

    private var stateText: String {
        guard let conclusion else { return "running for \(Self.number(elapsedSeconds)) s" }
        return "concluded after \(Self.number(elapsedSeconds)) s: \(conclusion)"
    }

    /// A goal's value with its unit: success as a percentage, latency in milliseconds, an outcome as a number.
    private static func value(_ value: Double, goal: String) -> String {
        switch goal {
        case "success": return number(value * 100) + "%"
        case "latency": return number(value) + " ms"
        default: return number(value)
        }
    }

    private static func signed(_ value: Double, goal: String) -> String {
        let magnitude = abs(value)
        let text: String
        switch goal {
        case "success": text = number(magnitude * 100) + " pts"
        case "latency": text = number(magnitude) + " ms"
        default: text = number(magnitude)
        }
        return (value < 0 ? "−" : "+") + text
    }

    private static func signedPercent(_ fraction: Double) -> String {
        (fraction < 0 ? "−" : "+") + number(abs(fraction) * 100) + "%"
    }

    /// Four significant digits, without an exponent for everyday sizes.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return value > 0 ? "∞" : "−∞" }
        if value == 0 { return "0" }
        if abs(value) >= 10_000 || abs(value) < 0.0001 { return String(format: "%.3g", value) }
        let digits = max(0, 3 - Int(floor(log10(abs(value)))))
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
