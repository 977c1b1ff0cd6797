import Foundation
import Logging
import SlipwayCore
import SlipwayServer
import SlipwayTestSupport
import Synchronization
import Testing

/// `--log-format json`: one object per line, with stable keys, for events and log messages alike.
@Suite struct LogFormatTests {
    static func object(_ line: some StringProtocol) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    @Test func anEventAndALogMessageAreOneSortedObjectEach() throws {
        let recorded = RecordedEvent(
            id: 7,
            time: Date(timeIntervalSince1970: 1_795_428_000.25),
            event: Event(
                app: "shop",
                kind: .instanceHealthy,
                instance: InstanceID("shop-2"),
                fields: ["version": "2.0.0", "port": 4242]
            )
        )
        let line = JSONLines.line(recorded)
        #expect(
            line
                == #"{"app":"shop","fields":{"port":4242,"version":"2.0.0"},"id":7,"instance":"shop-2","#
                + #""kind":"instanceHealthy","time":"2026-11-23T10:00:00.250Z","type":"event"}"#
        )
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "slipway.test") { label in
            JSONLogHandler(label: label, level: .info) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "app"] = "shop"
        logger.warning("drain timed out", metadata: ["instance": "shop-2", "waitedMs": "5000"])
        logger.debug("not at this level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let first = try #require(written.first)
        let object = try #require(Self.object(first))
        #expect(object["type"] as? String == "log")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "slipway.test")
        #expect(object["message"] as? String == "drain timed out")
        #expect(
            object["metadata"] as? [String: String] == ["app": "shop", "instance": "shop-2", "waitedMs": "5000"]
        )
    }

    @Test func slipwayUpWritesOnlyJSONLines() async throws {
        let directory = try makeTemporaryDirectory()
        let demo = BuiltProducts.path("slipway-demo-app")
        let config = """
            controller:
              api: 127.0.0.1:\(try LoopbackHTTP.freePort())
              stateDir: state
            apps:
              - name: shop
                listen: 127.0.0.1:\(try LoopbackHTTP.freePort())
                instances: 1
                version: "1.0.0"
                run:
                  command: [\(demo), --port, "{port}"]
                health:
                  path: /healthz
                  interval: 200ms
                  timeout: 200ms
            """
        try config.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let run = try await SlipwayBinary.run(
            ["up", "-f", directory + "/slipway.yaml", "--log-format", "json"],
            in: directory,
            seconds: 6,
            signal: SIGINT
        )
        #expect(run.status == 0, "\(run.stderr)\n\(run.stdout)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count >= 4, "\(run.stdout)")
        let objects = lines.compactMap(Self.object)
        #expect(objects.count == lines.count, "every line is one JSON object: \(run.stdout)")
        #expect(objects.allSatisfy { $0["time"] is String && $0["type"] is String })
        let kinds = objects.compactMap { $0["kind"] as? String }
        #expect(kinds.contains("controllerStarted"))
        #expect(kinds.contains("instanceHealthy"))
        #expect(kinds.contains("controllerStopped"))
        let notices = objects.filter { $0["type"] as? String == "log" }.compactMap { $0["message"] as? String }
        #expect(notices.contains { $0.hasPrefix("slipway: API token in ") })
        // The data plane the controller started writes JSON lines too: that it serves, and that it stopped.
        let dataPlane = try String(contentsOfFile: directory + "/state/dataplane.log", encoding: .utf8)
            .split(separator: "\n")
        let messages = dataPlane.compactMap(Self.object)
        #expect(messages.count == dataPlane.count && !messages.isEmpty, "every line is one JSON object: \(dataPlane)")
        #expect(messages.allSatisfy { $0["label"] as? String == "slipway-dataplane" && $0["time"] is String })
        let first = messages.first?["message"] as? String ?? ""
        #expect(
            first.hasPrefix("serving 0 listeners on ")
                && first.hasSuffix("control socket \(directory)/state/dataplane.sock"),
            "\(first)"
        )
        #expect(messages.last?["message"] as? String == "stopped")
    }
}
