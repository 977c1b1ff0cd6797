import Synchronization

/// The demo service's own metrics: counted answers by status class and the conversions reported, exposed at
/// `GET /metrics` in the Prometheus text format, as an app instrumented with a Prometheus client would.
final class ResponseTally: Sendable {
    private struct Counts {
        var byClass = [Int](repeating: 0, count: 6)
        var conversions = 0
    }

    private let counts = Mutex(Counts())

    /// One counted answer with `status`, converted or not.
    func record(status: Int, converted: Bool) {
        counts.withLock { counts in
            counts.byClass[min(max(status / 100, 1), 5)] += 1
            if converted { counts.conversions += 1 }
        }
    }

    /// The exposition for `version` and `instance`; every class is written, zero or not, so that a ratio of two
    /// series has data before the first error.
    func exposition(version: String, instance: String) -> String {
        let snapshot = counts.withLock { $0 }
        let labels = "version=\"\(Self.escaped(version))\",instance=\"\(Self.escaped(instance))\""
        var text = "# HELP demo_responses_total Answers to / and /work by status class.\n"
        text += "# TYPE demo_responses_total counter\n"
        for digit in 1...5 {
            text += "demo_responses_total{\(labels),code=\"\(digit)xx\"} \(snapshot.byClass[digit])\n"
        }
        text += "# HELP demo_conversions_total Answers that reported the outcome `converted`.\n"
        text += "# TYPE demo_conversions_total counter\n"
        text += "demo_conversions_total{\(labels)} \(snapshot.conversions)\n"
        return text
    }

    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
