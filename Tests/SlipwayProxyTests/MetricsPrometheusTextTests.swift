import SlipwayProxy
import Testing

@Suite struct MetricsPrometheusTextTests {
    /// An app whose name needs every escape, with one version and no traffic.
    private static let awkwardApp = "a\"b\\c\nd"

    private static func samples() -> [AppTrafficSample] {
        var version = TrafficSnapshot.empty
        version.requests = 5
        version.inFlight = 1
        version.responses = [0, 0, 3, 0, 0, 1]
        version.proxyGenerated = [502: 1]
        version.retries = 2
        version.retriesRefused = 1
        version.injected = InjectedFaults(aborted: 7, delayed: 3)
        for microseconds: UInt64 in [500, 3_000, 3_000_000, 20_000_000] {
            version.latency.record(microseconds)
        }
        var unrouted = TrafficSnapshot.empty
        unrouted.requests = 2
        unrouted.responses = [0, 0, 0, 0, 0, 2]
        unrouted.proxyGenerated = [503: 2]
        unrouted.latency.record(40)
        unrouted.latency.record(60)

        let shop = AppTrafficSample(
            app: "shop",
            takenAt: .now,
            versions: ["v1": version],
            instances: ["shop-v1-a": .init(version: "v1", traffic: version)],
            unrouted: unrouted,
            outliers: OutlierState(ejected: ["shop-v1-a"], ejections: ["shop-v1-a": 3], openCircuits: ["v1"])
        )
        let awkward = AppTrafficSample(app: awkwardApp, takenAt: .now, versions: ["1.0": .empty])
        return [shop, awkward]
    }

    /// The rendering of `samples()`; `_sum` lines hold the exact sum, which the histogram only approximates.
    private static let expected = #"""
        # HELP slipway_proxy_requests_total Requests the proxy sent toward an instance, or answered itself when no instance could take them.
        # TYPE slipway_proxy_requests_total counter
        slipway_proxy_requests_total{app="a\"b\\c\nd",version="",instance=""} 0
        slipway_proxy_requests_total{app="shop",version="",instance=""} 2
        slipway_proxy_requests_total{app="shop",version="v1",instance="shop-v1-a"} 5
        # HELP slipway_proxy_responses_total Responses the clients got, by status class.
        # TYPE slipway_proxy_responses_total counter
        slipway_proxy_responses_total{app="a\"b\\c\nd",version="",instance="",code_class="1xx"} 0
        slipway_proxy_responses_total{app="a\"b\\c\nd",version="",instance="",code_class="2xx"} 0
        slipway_proxy_responses_total{app="a\"b\\c\nd",version="",instance="",code_class="3xx"} 0
        slipway_proxy_responses_total{app="a\"b\\c\nd",version="",instance="",code_class="4xx"} 0
        slipway_proxy_responses_total{app="a\"b\\c\nd",version="",instance="",code_class="5xx"} 0
        slipway_proxy_responses_total{app="shop",version="",instance="",code_class="1xx"} 0
        slipway_proxy_responses_total{app="shop",version="",instance="",code_class="2xx"} 0
        slipway_proxy_responses_total{app="shop",version="",instance="",code_class="3xx"} 0
        slipway_proxy_responses_total{app="shop",version="",instance="",code_class="4xx"} 0
        slipway_proxy_responses_total{app="shop",version="",instance="",code_class="5xx"} 2
        slipway_proxy_responses_total{app="shop",version="v1",instance="shop-v1-a",code_class="1xx"} 0
        slipway_proxy_responses_total{app="shop",version="v1",instance="shop-v1-a",code_class="2xx"} 3
        slipway_proxy_responses_total{app="shop",version="v1",instance="shop-v1-a",code_class="3xx"} 0
        slipway_proxy_responses_total{app="shop",version="v1",instance="shop-v1-a",code_class="4xx"} 0
        slipway_proxy_responses_total{app="shop",version="v1",instance="shop-v1-a",code_class="5xx"} 1
        # HELP slipway_proxy_generated_responses_total Responses the proxy made itself: connect failure, no instance to send to, timeout.
        # TYPE slipway_proxy_generated_responses_total counter
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="",status="502"} 0
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="",status="503"} 0
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="",status="504"} 0
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="1.0",status="502"} 0
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="1.0",status="503"} 0
        slipway_proxy_generated_responses_total{app="a\"b\\c\nd",version="1.0",status="504"} 0
        slipway_proxy_generated_responses_total{app="shop",version="",status="502"} 0
        slipway_proxy_generated_responses_total{app="shop",version="",status="503"} 2
        slipway_proxy_generated_responses_total{app="shop",version="",status="504"} 0
        slipway_proxy_generated_responses_total{app="shop",version="v1",status="502"} 1
        slipway_proxy_generated_responses_total{app="shop",version="v1",status="503"} 0
        slipway_proxy_generated_responses_total{app="shop",version="v1",status="504"} 0
        # HELP slipway_proxy_in_flight_requests Requests sent and not answered yet.
        # TYPE slipway_proxy_in_flight_requests gauge
        slipway_proxy_in_flight_requests{app="a\"b\\c\nd",version="",instance=""} 0
        slipway_proxy_in_flight_requests{app="shop",version="",instance=""} 0
        slipway_proxy_in_flight_requests{app="shop",version="v1",instance="shop-v1-a"} 1
        # HELP slipway_proxy_retries_total Failed attempts sent again to another instance.
        # TYPE slipway_proxy_retries_total counter
        slipway_proxy_retries_total{app="a\"b\\c\nd",version="1.0"} 0
        slipway_proxy_retries_total{app="shop",version="v1"} 2
        # HELP slipway_proxy_retries_refused_total Failed attempts the retry budget allowed no retry.
        # TYPE slipway_proxy_retries_refused_total counter
        slipway_proxy_retries_refused_total{app="a\"b\\c\nd",version="1.0"} 0
        slipway_proxy_retries_refused_total{app="shop",version="v1"} 1
        # HELP slipway_proxy_injected_faults_total Requests a fault of the proxy affected, apart from the app's responses.
        # TYPE slipway_proxy_injected_faults_total counter
        slipway_proxy_injected_faults_total{app="a\"b\\c\nd",version="1.0",fault="abort"} 0
        slipway_proxy_injected_faults_total{app="a\"b\\c\nd",version="1.0",fault="delay"} 0
        slipway_proxy_injected_faults_total{app="a\"b\\c\nd",version="1.0",fault="reset"} 0
        slipway_proxy_injected_faults_total{app="a\"b\\c\nd",version="1.0",fault="bandwidth"} 0
        slipway_proxy_injected_faults_total{app="shop",version="v1",fault="abort"} 7
        slipway_proxy_injected_faults_total{app="shop",version="v1",fault="delay"} 3
        slipway_proxy_injected_faults_total{app="shop",version="v1",fault="reset"} 0
        slipway_proxy_injected_faults_total{app="shop",version="v1",fault="bandwidth"} 0
        # HELP slipway_proxy_ejections_total Times outlier detection ejected the instance.
        # TYPE slipway_proxy_ejections_total counter
        slipway_proxy_ejections_total{app="shop",version="v1",instance="shop-v1-a"} 3
        # HELP slipway_proxy_ejected 1 while outlier detection holds the instance out of rotation.
        # TYPE slipway_proxy_ejected gauge
        slipway_proxy_ejected{app="shop",version="v1",instance="shop-v1-a"} 1
        # HELP slipway_proxy_circuit_open 1 while every instance of the version is ejected and its requests are answered 503 at once.
        # TYPE slipway_proxy_circuit_open gauge
        slipway_proxy_circuit_open{app="a\"b\\c\nd",version="1.0"} 0
        slipway_proxy_circuit_open{app="shop",version="v1"} 1
        # HELP slipway_proxy_request_duration_seconds Time from request head received to response end.
        # TYPE slipway_proxy_request_duration_seconds histogram
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.001"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.0025"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.005"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.01"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.025"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.05"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.1"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.25"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="0.5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="1"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="2.5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="10"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="",le="+Inf"} 0
        slipway_proxy_request_duration_seconds_sum{app="a\"b\\c\nd",version=""} 0
        slipway_proxy_request_duration_seconds_count{app="a\"b\\c\nd",version=""} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.001"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.0025"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.005"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.01"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.025"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.05"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.1"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.25"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="0.5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="1"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="2.5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="5"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="10"} 0
        slipway_proxy_request_duration_seconds_bucket{app="a\"b\\c\nd",version="1.0",le="+Inf"} 0
        slipway_proxy_request_duration_seconds_sum{app="a\"b\\c\nd",version="1.0"} 0
        slipway_proxy_request_duration_seconds_count{app="a\"b\\c\nd",version="1.0"} 0
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.001"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.0025"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.005"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.01"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.025"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.05"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.1"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.25"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="0.5"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="1"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="2.5"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="5"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="10"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="",le="+Inf"} 2
        slipway_proxy_request_duration_seconds_sum{app="shop",version=""} 0.0001
        slipway_proxy_request_duration_seconds_count{app="shop",version=""} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.001"} 1
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.0025"} 1
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.005"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.01"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.025"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.05"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.1"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.25"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="0.5"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="1"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="2.5"} 2
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="5"} 3
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="10"} 3
        slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le="+Inf"} 4
        slipway_proxy_request_duration_seconds_sum{app="shop",version="v1"} 23.0035
        slipway_proxy_request_duration_seconds_count{app="shop",version="v1"} 4

        """#

    @Test func rendersEveryFamilyLineByLine() throws {
        let text = PrometheusText.render(Self.samples())
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let expectedLines = Self.expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == expectedLines.count)
        // Stops at the first difference: every later line would differ too once one is missing or extra.
        for (number, (line, expectedLine)) in zip(lines, expectedLines).enumerated() {
            if expectedLine.contains("_sum{") {
                // The histogram keeps buckets, not values: its sum is right to its precision (0.1%).
                let (series, value) = try #require(Self.seriesAndValue(line), "line \(number + 1): \(line)")
                let (expectedSeries, expectedValue) = try #require(Self.seriesAndValue(expectedLine))
                try #require(series == expectedSeries, "line \(number + 1)")
                try #require(abs(value - expectedValue) <= expectedValue / 1_000, "line \(number + 1): \(line)")
            } else {
                try #require(line == expectedLine, "line \(number + 1)")
            }
        }
    }

    @Test func eachFamilyHasOneHelpAndOneTypeBeforeItsSamples() {
        let lines = PrometheusText.render(Self.samples()).split(separator: "\n").map(String.init)
        let families = [
            ("slipway_proxy_requests_total", "counter"),
            ("slipway_proxy_responses_total", "counter"),
            ("slipway_proxy_generated_responses_total", "counter"),
            ("slipway_proxy_in_flight_requests", "gauge"),
            ("slipway_proxy_retries_total", "counter"),
            ("slipway_proxy_retries_refused_total", "counter"),
            ("slipway_proxy_injected_faults_total", "counter"),
            ("slipway_proxy_ejections_total", "counter"),
            ("slipway_proxy_ejected", "gauge"),
            ("slipway_proxy_circuit_open", "gauge"),
            ("slipway_proxy_request_duration_seconds", "histogram"),
        ]
        for (name, type) in families {
            let helps = lines.indices.filter { lines[$0].hasPrefix("# HELP \(name) ") }
            let types = lines.indices.filter { lines[$0] == "# TYPE \(name) \(type)" }
            #expect(helps.count == 1, "\(name)")
            #expect(types.count == 1, "\(name)")
            guard let help = helps.first, let typeLine = types.first else {
                continue
            }
            #expect(typeLine == help + 1, "\(name)")
            // Every sample of the family follows its TYPE line without another family's in between.
            let samples = lines.indices.filter { Self.familyName(of: lines[$0]) == name }
            #expect(!samples.isEmpty, "\(name)")
            #expect(samples.first == typeLine + 1, "\(name)")
            #expect(samples.last.map { $0 - typeLine } == samples.count, "\(name)")
        }
    }

    @Test func labelValuesEscapeBackslashQuoteAndLineFeed() {
        var sample = AppTrafficSample(app: "x\r\ny", takenAt: .now)
        sample.instances[#"i\"1"#] = .init(version: "v\n2", traffic: .empty)
        let text = PrometheusText.render([sample])

        let escaped = #"slipway_proxy_requests_total{app="x"# + "\r" + #"\ny",version="v\n2",instance="i\\\"1"} 0"#
        #expect(text.contains(escaped))
        // No label value breaks a line: every line is a comment or starts with a metric name.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            #expect(line.hasPrefix("# ") || line.hasPrefix("slipway_proxy_"), "\(line)")
        }
    }

    @Test func durationBucketsAreCumulativeAndEndWithInfinityEqualToCount() throws {
        var traffic = TrafficSnapshot.empty
        for milliseconds: UInt64 in [0, 1, 2, 3, 7, 12, 30, 70, 120, 300, 700, 1_500, 3_000, 7_000, 60_000, 61_000] {
            traffic.latency.record(milliseconds * 1_000)
        }
        let sample = AppTrafficSample(app: "shop", takenAt: .now, versions: ["v1": traffic])
        let lines = PrometheusText.render([sample]).split(separator: "\n").map(String.init)
        let prefix = #"slipway_proxy_request_duration_seconds_bucket{app="shop",version="v1",le=""#
        let buckets = lines.filter { $0.hasPrefix(prefix) }.compactMap(Self.seriesAndValue)

        #expect(buckets.count == 14)
        let counts = buckets.map(\.value)
        #expect(counts == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16])
        #expect(buckets.last?.series == prefix + #"+Inf"}"#)
        let count = try #require(
            lines.first { $0.hasPrefix(#"slipway_proxy_request_duration_seconds_count{app="shop",version="v1"}"#) }
        )
        #expect(Self.seriesAndValue(count)?.value == counts.last)
    }

    @Test func outputDoesNotDependOnInputOrder() {
        let samples = Self.samples()
        var reordered = Array(samples.reversed())
        reordered[1].instances["shop-v1-b"] = .init(version: "v1", traffic: .empty)
        reordered[1].instances["shop-v0-z"] = .init(version: "v0", traffic: .empty)
        var withMore = samples
        withMore[0].instances["shop-v0-z"] = .init(version: "v0", traffic: .empty)
        withMore[0].instances["shop-v1-b"] = .init(version: "v1", traffic: .empty)

        let text = PrometheusText.render(withMore)
        #expect(text == PrometheusText.render(reordered))
        let requests = text.split(separator: "\n").filter { $0.hasPrefix("slipway_proxy_requests_total{app=\"shop\"") }
        #expect(
            requests == [
                #"slipway_proxy_requests_total{app="shop",version="",instance=""} 2"#,
                #"slipway_proxy_requests_total{app="shop",version="v0",instance="shop-v0-z"} 0"#,
                #"slipway_proxy_requests_total{app="shop",version="v1",instance="shop-v1-a"} 5"#,
                #"slipway_proxy_requests_total{app="shop",version="v1",instance="shop-v1-b"} 0"#,
            ]
        )
    }

    @Test func aWaitingRoomIsDescribedForTheAppsThatHaveOne() {
        let room = WaitingRoomState(
            waiting: 7,
            inFlight: 4,
            limit: 4,
            admittedAfterWaiting: 120,
            refusedFull: 33,
            timedOut: 2,
            waitedSeconds: 12.5
        )
        let text = PrometheusText.render([
            AppTrafficSample(app: "shop", takenAt: .now, waitingRoom: room),
            AppTrafficSample(app: "cart", takenAt: .now),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        for line in [
            #"slipway_proxy_waiting_requests{app="shop"} 7"#,
            #"slipway_proxy_waiting_room_limit{app="shop"} 4"#,
            #"slipway_proxy_waiting_admitted_total{app="shop"} 120"#,
            #"slipway_proxy_waiting_refused_total{app="shop"} 33"#,
            #"slipway_proxy_waiting_timed_out_total{app="shop"} 2"#,
            #"slipway_proxy_waiting_seconds_total{app="shop"} 12.5"#,
        ] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(!text.contains(#"waiting_requests{app="cart"}"#))
    }

    @Test func mirroredRequestsAreDescribedBySideForTheAppsThatMirror() {
        var shadow = TrafficSnapshot.empty
        shadow.requests = 10
        shadow.responses = [0, 0, 6, 0, 0, 4]
        var original = TrafficSnapshot.empty
        original.requests = 10
        original.responses = [0, 0, 10, 0, 0, 0]
        let text = PrometheusText.render([
            AppTrafficSample(
                app: "shop",
                takenAt: .now,
                mirror: MirrorTraffic(shadows: ["2.0.0": shadow], originals: ["1.0.0": original], dropped: 3)
            ),
            AppTrafficSample(app: "cart", takenAt: .now),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        for line in [
            #"slipway_proxy_mirror_responses_total{app="shop",version="2.0.0",side="shadow",code_class="5xx"} 4"#,
            #"slipway_proxy_mirror_responses_total{app="shop",version="2.0.0",side="shadow",code_class="2xx"} 6"#,
            #"slipway_proxy_mirror_responses_total{app="shop",version="1.0.0",side="original",code_class="2xx"} 10"#,
            #"slipway_proxy_mirror_dropped_total{app="shop"} 3"#,
        ] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(!text.contains(#"mirror_dropped_total{app="cart"}"#))
        #expect(!PrometheusText.render([AppTrafficSample(app: "cart", takenAt: .now)]).contains("mirror"))
    }

    @Test func noSamplesStillDescribesEveryFamily() {
        let lines = PrometheusText.render([]).split(separator: "\n")
        #expect(lines.count == 22)
        #expect(lines.allSatisfy { $0.hasPrefix("# HELP ") || $0.hasPrefix("# TYPE ") })
    }

    /// The series (name and labels) and value of a sample line.
    private static func seriesAndValue(_ line: String) -> (series: String, value: Double)? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            return nil
        }
        return (String(line[..<space]), value)
    }

    /// The family a sample line belongs to: its name without a histogram's suffixes; nil for comments.
    private static func familyName(of line: String) -> String? {
        guard !line.hasPrefix("#"), let brace = line.firstIndex(of: "{") else {
            return nil
        }
        let name = String(line[..<brace])
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }
}
