import Foundation
import Logging
import NIOPosix
import SlipwayCore
import SlipwayEngine
import SlipwayProxy
import SlipwayServer
import SlipwayTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Spans as an OTLP/HTTP receiver gets them (JSON encoding).
struct ReceivedSpan {
    var traceID: String
    var spanID: String
    var parentSpanID: String
    var name: String
    var kind: Int
    var attributes: [String: String]
    var events: [String]
    var statusCode: Int

    /// Every span of every export request `receiver` got on `/v1/traces`.
    static func all(in receiver: TestReceiver) -> [ReceivedSpan] {
        receiver.requests.filter { $0.path == "/v1/traces" }.flatMap { request -> [ReceivedSpan] in
            guard let json = request.json, let resources = json["resourceSpans"] as? [[String: Any]] else { return [] }
            return resources.flatMap { resource in
                (resource["scopeSpans"] as? [[String: Any]] ?? []).flatMap { scope in
                    (scope["spans"] as? [[String: Any]] ?? []).map(ReceivedSpan.init)
                }
            }
        }
    }

    init(_ json: [String: Any]) {
        traceID = Self.hex(json["traceId"])
        spanID = Self.hex(json["spanId"])
        parentSpanID = Self.hex(json["parentSpanId"])
        name = json["name"] as? String ?? ""
        kind = json["kind"] as? Int ?? 0
        var attributes: [String: String] = [:]
        for attribute in json["attributes"] as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any],
                let first = value.values.first
            else { continue }
            attributes[key] = "\(first)"
        }
        self.attributes = attributes
        events = (json["events"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        statusCode = (json["status"] as? [String: Any])?["code"] as? Int ?? 0
    }

    /// An id as lowercase hex, whether the JSON wrote it as hex or (protobuf's JSON mapping of bytes) base64.
    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let data = Data(base64Encoded: text) else { return text }
        return data.map { String(format: "%02x", $0) }.joined()
    }
}

extension ReceiverAnswer {
    /// What an OTLP/HTTP receiver answers to an export it took whole (JSON encoding).
    static let otlpAccepted = ReceiverAnswer(status: 200, body: "{}", headers: [("Content-Type", "application/json")])
}

/// Traces of requests through the proxy and of rollouts, sent to an OTLP/HTTP receiver the test runs.
@Suite(.serialized) struct TracingTests {
    /// The status of `GET path` on loopback `port`, without blocking a thread of the concurrency pool (the proxy's
    /// instance here answers from that pool).
    static func get(port: Int, path: String, headers: [String: String] = [:]) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test func theProxyContinuesTheClientsTraceAndTellsTheInstance() async throws {
        let collector = try await TestReceiver.start(fallback: .otlpAccepted)
        let instance = try await TestReceiver.start()
        let export = TracingExport(
            endpoint: "http://127.0.0.1:\(collector.port)",
            sampleRatio: 0,
            serviceName: "shop-proxy",
            json: true
        )
        let backend = try export.makeBackend()
        let exporting = TracingService(service: backend.service, logger: Logger(label: "slipway.test.tracing"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await AppListener.bind(
            app: "shop",
            host: "127.0.0.1",
            port: 0,
            settings: ProxySettings(),
            group: group,
            tracing: RequestTracing(tracer: backend.tracer)
        )
        listener.update(
            try RouteTable(versions: [
                VersionRoute(
                    version: "2.0.0",
                    weight: 10_000,
                    instances: [
                        try UpstreamInstance(id: "shop-3", version: "2.0.0", host: "127.0.0.1", port: instance.port)
                    ]
                )
            ])
        )
        // A sampled trace from the client is always followed, even at a ratio of 0.
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parent = "00f067aa0ba902b7"
        let sampled = try await Self.get(
            port: listener.port,
            path: "/cart?id=7",
            headers: ["traceparent": "00-\(traceID)-\(parent)-01", "X-Request-Id": "req-1"]
        )
        #expect(sampled == 200)
        // A new trace at a ratio of 0 is not kept, but its context still reaches the instance.
        #expect(try await Self.get(port: listener.port, path: "/other") == 200)
        try await listener.close()
        await exporting.flushAndStop(within: .seconds(5))

        let received = instance.requests
        #expect(received.count == 2)
        let forwarded = try #require(received.first?.headers["traceparent"])
        let parts = forwarded.split(separator: "-").map(String.init)
        #expect(parts.count == 4 && parts[1] == traceID && parts[2] != parent && parts[3] == "01", "\(forwarded)")
        let unsampled = try #require(received.last?.headers["traceparent"])
        #expect(unsampled.hasSuffix("-00") && !unsampled.contains(traceID), "\(unsampled)")

        let spans = ReceivedSpan.all(in: collector)
        #expect(spans.count == 1, "only the sampled request is exported: \(spans.map(\.name))")
        let span = try #require(spans.first)
        #expect(span.traceID == traceID && span.parentSpanID == parent && span.spanID == parts[2])
        #expect(span.name == "GET" && span.kind == 2)
        #expect(span.attributes["http.request.method"] == "GET")
        #expect(span.attributes["url.path"] == "/cart")
        #expect(span.attributes["http.response.status_code"] == "200")
        #expect(span.attributes["slipway.version"] == "2.0.0" && span.attributes["slipway.instance"] == "shop-3")
        #expect(span.attributes["slipway.request_id"] == "req-1")
        try await group.shutdownGracefully()
        await collector.stop()
        await instance.stop()
    }

    @Test func aRolloutIsATraceWithASpanPerStep() async throws {
        let collector = try await TestReceiver.start(fallback: .otlpAccepted)
        let yaml = ControllerFixture.demoConfig(
            instances: 2,
            extra: RolloutConfig.app(
                strategy: """
                    canary:
                      steps:
                        - weight: 50
                        - pause: 1s
                    """
            )
        )
        .replacingOccurrences(
            of: "  stateDir: state\n",
            with: "  stateDir: state\n  tracing: {endpoint: \"http://127.0.0.1:\(collector.port)\", sampleRatio: 100%, "
                + "protocol: json, serviceName: shop-slipway}\n"
        )
        let fixture = try await ControllerFixture(yaml: yaml)
        try await fixture.waitUntilServing(instances: 2)
        let load = LoadClient(port: fixture.port, rate: 60, threads: 2)
        await load.waitFor(20)
        _ = try await fixture.controller.deploy(
            app: "shop",
            DeployRequest(version: "2.0.0", by: "ada", release: ReleaseMetadata(commit: "9b1d2e7"))
        )
        let outcome = try await fixture.waitForOutcome(timeout: .seconds(60))
        #expect(outcome.state == "promoted")
        await load.stop()
        // Stopping the controller exports what is still batched.
        try await fixture.stop()
        let spans = ReceivedSpan.all(in: collector)
        let rollout = try #require(spans.first { $0.name == "rollout shop #1" }, "\(spans.map(\.name).prefix(20))")
        #expect(rollout.parentSpanID.isEmpty)
        #expect(rollout.attributes["slipway.from"] == "1.0.0" && rollout.attributes["slipway.to"] == "2.0.0")
        #expect(rollout.attributes["slipway.outcome"] == "promoted")
        #expect(rollout.attributes["slipway.release.commit"] == "9b1d2e7")
        let steps = spans.filter { $0.parentSpanID == rollout.spanID }
        #expect(steps.count >= 3, "\(steps.map(\.name))")
        #expect(steps.allSatisfy { $0.traceID == rollout.traceID && $0.name.hasPrefix("step ") })
        #expect(steps.contains { $0.name.hasSuffix("weight 50%") })
        #expect(steps.contains { $0.events.contains("trafficShifted") })
        // The proxy's own spans, all sampled at 100%, carry the version that answered.
        let requests = spans.filter { $0.name == "GET" }
        #expect(!requests.isEmpty)
        #expect(Set(requests.compactMap { $0.attributes["slipway.version"] }) == ["1.0.0", "2.0.0"])
        await collector.stop()
    }
}

extension TracingTests {
    /// `slipway up` with its data plane in a process of its own: that process exports the requests' spans.
    @Test func theDataPlaneProcessExportsItsSpans() async throws {
        let collector = try await TestReceiver.start(fallback: .otlpAccepted)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let appPort = try LoopbackHTTP.freePort()
        let config = """
            controller:
              api: 127.0.0.1:\(try LoopbackHTTP.freePort())
              stateDir: state
              tracing: {endpoint: "http://127.0.0.1:\(collector.port)", sampleRatio: 100%, protocol: json}
            apps:
              - name: shop
                listen: 127.0.0.1:\(appPort)
                instances: 1
                version: "1.0.0"
                run:
                  command: [\(BuiltProducts.path("slipway-demo-app")), --port, "{port}"]
                health:
                  path: /healthz
                  interval: 200ms
                  timeout: 200ms
            """
        try config.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let traffic = Task {
            var served = 0
            for _ in 0..<100 where served < 3 {
                if (try? await Self.get(port: appPort, path: "/")) == 200 { served += 1 }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return served
        }
        let run = try await SlipwayBinary.run(
            ["up", "-f", directory + "/slipway.yaml", "--quiet"],
            in: directory,
            seconds: 7,
            signal: SIGINT
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(await traffic.value == 3)
        let spans = ReceivedSpan.all(in: collector).filter { $0.name == "GET" }
        #expect(spans.count == 3, "\(ReceivedSpan.all(in: collector).map(\.name))")
        #expect(
            spans.allSatisfy { $0.attributes["slipway.app"] == "shop" && $0.attributes["slipway.version"] == "1.0.0" }
        )
        let service = collector.requests.compactMap(\.json).compactMap { json -> String? in
            let resource = (json["resourceSpans"] as? [[String: Any]])?.first?["resource"] as? [String: Any]
            let attributes = resource?["attributes"] as? [[String: Any]] ?? []
            let name = attributes.first { $0["key"] as? String == "service.name" }
            return (name?["value"] as? [String: Any])?["stringValue"] as? String
        }
        #expect(Set(service) == ["slipway"])
        await collector.stop()
    }
}
