import Histogram

/// Prometheus text exposition (format 0.0.4) over the same counters the engine reads — one source of truth.
///
/// Output is sorted by family, then by label values, so two renderings of the same samples are identical.
/// Requests no instance could take appear with empty `version` and `instance` labels.
public enum PrometheusText {
    /// The request duration buckets: upper bound as written in the `le` label, and in microseconds.
    private static let durationBuckets: [(label: String, microseconds: UInt64)] = [
        ("0.001", 1_000), ("0.0025", 2_500), ("0.005", 5_000), ("0.01", 10_000), ("0.025", 25_000),
        ("0.05", 50_000), ("0.1", 100_000), ("0.25", 250_000), ("0.5", 500_000), ("1", 1_000_000),
        ("2.5", 2_500_000), ("5", 5_000_000), ("10", 10_000_000),
    ]

    /// The proxy-made statuses every version reports, zero or not, so their series exist before the first one.
    private static let generatedStatuses: Set<Int> = [502, 503, 504]

    /// The samples as one exposition document.
    public static func render(_ samples: [AppTrafficSample]) -> String {
        let instances = instanceRows(samples)
        let versions = versionRows(samples)
        var text = ""

        header(
            &text,
            "slipway_proxy_requests_total",
            "counter",
            "Requests the proxy sent toward an instance, or answered itself when no instance could take them."
        )
        for row in instances {
            sample(&text, "slipway_proxy_requests_total", row.labels, String(row.traffic.requests))
        }

        header(&text, "slipway_proxy_responses_total", "counter", "Responses the clients got, by status class.")
        for row in instances {
            for digit in 1...5 {
                let labels = row.labels + [("code_class", "\(digit)xx")]
                sample(&text, "slipway_proxy_responses_total", labels, String(row.traffic.responses(ofClass: digit)))
            }
        }

        header(
            &text,
            "slipway_proxy_generated_responses_total",
            "counter",
            "Responses the proxy made itself: connect failure, no instance to send to, timeout."
        )
        for row in versions {
            let statuses = generatedStatuses.union(row.traffic.proxyGenerated.keys).sorted()
            for status in statuses {
                let labels = row.labels + [("status", String(status))]
                let count = row.traffic.proxyGenerated[status] ?? 0
                sample(&text, "slipway_proxy_generated_responses_total", labels, String(count))
            }
        }

        header(&text, "slipway_proxy_in_flight_requests", "gauge", "Requests sent and not answered yet.")
        for row in instances {
            sample(&text, "slipway_proxy_in_flight_requests", row.labels, String(row.traffic.inFlight))
        }

        resilience(&text, samples: samples, versions: versions)

        let duration = "slipway_proxy_request_duration_seconds"
        header(&text, duration, "histogram", "Time from request head received to response end.")
        for row in versions {
            let latency = row.traffic.latency
            for bucket in durationBuckets {
                let count = latency.count(within: 0...bucket.microseconds)
                sample(&text, duration + "_bucket", row.labels + [("le", bucket.label)], String(count))
            }
            sample(&text, duration + "_bucket", row.labels + [("le", "+Inf")], String(latency.totalCount))
            // The histogram keeps buckets, not values: the sum uses each bucket's middle value.
            let seconds = latency.totalCount > 0 ? latency.mean * Double(latency.totalCount) / 1_000_000 : 0
            sample(&text, duration + "_sum", row.labels, number(seconds))
            sample(&text, duration + "_count", row.labels, String(latency.totalCount))
        }

        let outcomes = versions.filter { !$0.traffic.outcomes.isEmpty }
        if !outcomes.isEmpty {
            header(
                &text,
                "slipway_proxy_outcomes_total",
                "counter",
                "Responses that reported an outcome in X-Slipway-Outcome (the header is removed on the way out)."
            )
            for row in outcomes {
                for (name, tally) in row.traffic.outcomes.sorted(by: { $0.key < $1.key }) {
                    sample(
                        &text,
                        "slipway_proxy_outcomes_total",
                        row.labels + [("outcome", name)],
                        String(tally.responses)
                    )
                }
            }
            header(&text, "slipway_proxy_outcome_value_sum", "counter", "The sum of the values reported per outcome.")
            for row in outcomes {
                for (name, tally) in row.traffic.outcomes.sorted(by: { $0.key < $1.key }) {
                    sample(
                        &text,
                        "slipway_proxy_outcome_value_sum",
                        row.labels + [("outcome", name)],
                        number(tally.sum)
                    )
                }
            }
        }
        mirrors(&text, samples: samples)
        return text
    }

    /// Mirrored requests, for apps that mirrored any: the copies' responses and the users' to the same requests.
    private static func mirrors(_ text: inout String, samples: [AppTrafficSample]) {
        let mirrored = samples.filter { !$0.mirror.isEmpty }
        guard !mirrored.isEmpty else { return }
        var rows: [Row] = []
        for sample in mirrored {
            for (side, traffic) in [("shadow", sample.mirror.shadows), ("original", sample.mirror.originals)] {
                for (version, snapshot) in traffic {
                    let labels: Labels = [("app", sample.app), ("version", version), ("side", side)]
                    rows.append(Row(labels: labels, traffic: snapshot))
                }
            }
        }
        rows.sort { $0.labels.lexicographicallyPrecedes($1.labels) { $0.value < $1.value } }
        let responses = "slipway_proxy_mirror_responses_total"
        header(
            &text,
            responses,
            "counter",
            "Mirrored requests by status class: side=\"shadow\" counts the copies' responses by the version they went "
                + "to, side=\"original\" the users' responses to the same requests by the version that served them."
        )
        for row in rows {
            for digit in 1...5 {
                sample(
                    &text,
                    responses,
                    row.labels + [("code_class", "\(digit)xx")],
                    String(row.traffic.responses(ofClass: digit))
                )
            }
        }
        let dropped = "slipway_proxy_mirror_dropped_total"
        header(&text, dropped, "counter", "Copies a mirror chose but did not send: no instance or connection free.")
        for sample in mirrored.sorted(by: { $0.app < $1.app }) {
            self.sample(&text, dropped, [("app", sample.app)], String(sample.mirror.dropped))
        }
    }

    /// Retries and their budget per version; ejections per instance; open circuits per version.
    private static func resilience(_ text: inout String, samples: [AppTrafficSample], versions: [Row]) {
        let routed = versions.filter { !$0.labels[1].value.isEmpty }
        header(&text, "slipway_proxy_retries_total", "counter", "Failed attempts sent again to another instance.")
        for row in routed {
            sample(&text, "slipway_proxy_retries_total", row.labels, String(row.traffic.retries))
        }
        header(
            &text,
            "slipway_proxy_retries_refused_total",
            "counter",
            "Failed attempts the retry budget allowed no retry."
        )
        for row in routed {
            sample(&text, "slipway_proxy_retries_refused_total", row.labels, String(row.traffic.retriesRefused))
        }
        let injected = "slipway_proxy_injected_faults_total"
        header(&text, injected, "counter", "Requests a fault of the proxy affected, apart from the app's responses.")
        for row in routed {
            for kind in FaultSpec.Kind.allCases {
                sample(&text, injected, row.labels + [("fault", kind.rawValue)], String(row.traffic.injected[kind]))
            }
        }
        var instances: [(labels: Labels, ejections: Int, ejected: Bool)] = []
        var circuits: [(labels: Labels, open: Bool)] = []
        for app in samples {
            let out = Set(app.outliers.ejected)
            for (id, instance) in app.instances {
                instances.append(
                    (
                        [("app", app.app), ("version", instance.version), ("instance", id)],
                        app.outliers.ejections[id] ?? 0, out.contains(id)
                    )
                )
            }
            let open = Set(app.outliers.openCircuits)
            for version in app.versions.keys {
                circuits.append(([("app", app.app), ("version", version)], open.contains(version)))
            }
        }
        instances.sort { $0.labels.lexicographicallyPrecedes($1.labels) { $0.value < $1.value } }
        circuits.sort { $0.labels.lexicographicallyPrecedes($1.labels) { $0.value < $1.value } }
        header(&text, "slipway_proxy_ejections_total", "counter", "Times outlier detection ejected the instance.")
        for row in instances { sample(&text, "slipway_proxy_ejections_total", row.labels, String(row.ejections)) }
        header(&text, "slipway_proxy_ejected", "gauge", "1 while outlier detection holds the instance out of rotation.")
        for row in instances { sample(&text, "slipway_proxy_ejected", row.labels, row.ejected ? "1" : "0") }
        header(
            &text,
            "slipway_proxy_circuit_open",
            "gauge",
            "1 while every instance of the version is ejected and its requests are answered 503 at once."
        )
        for row in circuits { sample(&text, "slipway_proxy_circuit_open", row.labels, row.open ? "1" : "0") }
        waitingRooms(&text, samples: samples)
    }

    /// The waiting rooms' lines, per app that has one.
    private static func waitingRooms(_ text: inout String, samples: [AppTrafficSample]) {
        let rooms: [(labels: Labels, room: WaitingRoomState)] = samples.compactMap { sample in
            sample.waitingRoom.map { room in ([("app", sample.app)], room) }
        }
        .sorted { $0.labels[0].value < $1.labels[0].value }
        guard !rooms.isEmpty else { return }
        let families: [(name: String, type: String, help: String, value: (WaitingRoomState) -> String)] = [
            (
                "slipway_proxy_waiting_requests", "gauge", "Requests waiting in the waiting room now.",
                { String($0.waiting) }
            ),
            (
                "slipway_proxy_waiting_room_limit", "gauge", "Requests the waiting room lets be in flight now.",
                { String($0.limit) }
            ),
            (
                "slipway_proxy_waiting_admitted_total", "counter", "Requests let in after waiting.",
                { String($0.admittedAfterWaiting) }
            ),
            (
                "slipway_proxy_waiting_refused_total", "counter",
                "Requests answered 503 because the line was full.", { String($0.refusedFull) }
            ),
            (
                "slipway_proxy_waiting_timed_out_total", "counter",
                "Requests answered 503 after waiting the queue timeout.", { String($0.timedOut) }
            ),
            (
                "slipway_proxy_waiting_seconds_total", "counter", "Time the requests let in after waiting waited.",
                { number($0.waitedSeconds) }
            ),
        ]
        for family in families {
            header(&text, family.name, family.type, family.help)
            for (labels, room) in rooms { sample(&text, family.name, labels, family.value(room)) }
        }
    }

    private typealias Labels = [(name: String, value: String)]

    private struct Row {
        var labels: Labels
        var traffic: TrafficSnapshot
    }

    /// One row per instance and one per app for its unrouted requests, sorted by app, version, instance.
    private static func instanceRows(_ samples: [AppTrafficSample]) -> [Row] {
        var rows: [Row] = []
        for sample in samples {
            for (id, instance) in sample.instances {
                let labels: Labels = [("app", sample.app), ("version", instance.version), ("instance", id)]
                rows.append(Row(labels: labels, traffic: instance.traffic))
            }
            let unrouted: Labels = [("app", sample.app), ("version", ""), ("instance", "")]
            rows.append(Row(labels: unrouted, traffic: sample.unrouted))
        }
        return rows.sorted { $0.labels.lexicographicallyPrecedes($1.labels) { $0.value < $1.value } }
    }

    /// One row per version and one per app for its unrouted requests, sorted by app, version.
    private static func versionRows(_ samples: [AppTrafficSample]) -> [Row] {
        var rows: [Row] = []
        for sample in samples {
            for (version, traffic) in sample.versions {
                rows.append(Row(labels: [("app", sample.app), ("version", version)], traffic: traffic))
            }
            rows.append(Row(labels: [("app", sample.app), ("version", "")], traffic: sample.unrouted))
        }
        return rows.sorted { $0.labels.lexicographicallyPrecedes($1.labels) { $0.value < $1.value } }
    }

    private static func header(_ text: inout String, _ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private static func sample(_ text: inout String, _ name: String, _ labels: Labels, _ value: String) {
        text += name
        text += "{"
        text += labels.map { "\($0.name)=\"\(escaped($0.value))\"" }.joined(separator: ",")
        text += "} "
        text += value
        text += "\n"
    }

    /// A label value with backslash, double quote and line feed escaped, as the format requires.
    private static func escaped(_ value: String) -> String {
        var result = ""
        // By scalar, not by character: "\r\n" is one character that still holds a line feed.
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A float as Prometheus reads it; whole numbers without a fraction.
    private static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }
}
