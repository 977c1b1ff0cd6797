import AsyncHTTPClient
import Foundation
import NIOCore
import SlipwayCore
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// The proxy's access log: one JSON object per request, written off the event loops, rotated at its cap.
@Suite(.serialized) struct DataPlaneAccessLogTests {
    static func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    @Test func everyRequestIsALineWithItsVersionInstanceStatusAndIds() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/logs/shop/access.log"
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start(
            settings: ProxySettings(accessLog: AccessLogSettings(path: path, maxBytes: 1 << 20, keep: 2))
        )
        // Bound and not listening for the whole test: every connection is refused, and no other test can take it.
        let (deadSocket, deadPort) = try LoopbackHTTP.refusingPort()
        defer { close(deadSocket) }
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        try await withClient { client in
            try proxy.route([upstream.instance()], version: "2.0.0")
            #expect(try await get(client, proxy.url + "/headers?card=4111", headers: [("traceparent", trace)]).0 == 200)
            #expect(try await get(client, proxy.url + "/status?code=404", headers: [("X-Request-Id", "mine")]).0 == 404)
            try proxy.route([])
            #expect(try await get(client, proxy.url + "/nothing").0 == 503)
            try proxy.route([UpstreamInstance(id: "dead", version: "v1", host: "127.0.0.1", port: deadPort)])
            #expect(try await get(client, proxy.url + "/gone").0 == 502)
        }
        try await proxy.stop()
        try await upstream.stop()
        let lines = try Self.lines(path)
        #expect(lines.map { $0["status"] as? Int } == [200, 404, 503, 502])
        let first = try #require(lines.first)
        #expect(first["app"] as? String == "shop" && first["version"] as? String == "2.0.0")
        #expect(first["instance"] as? String == "a" && first["method"] as? String == "GET")
        // The path without its query: a card number in a URL stays out of the log.
        #expect(first["path"] as? String == "/headers")
        #expect(first["traceId"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect((first["bytes"] as? Int ?? 0) > 0 && (first["durationMs"] as? Double ?? -1) >= 0)
        #expect((first["requestId"] as? String)?.count ?? 0 >= 16)
        #expect((first["time"] as? String)?.hasSuffix("Z") == true)
        #expect(lines[1]["requestId"] as? String == "mine" && lines[1]["traceId"] is NSNull)
        // No instance could take it: no version, no instance.
        #expect(lines[2]["version"] is NSNull && lines[2]["instance"] is NSNull)
        #expect(lines[3]["instance"] as? String == "dead")
        // Stable keys, in a fixed order.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            text.hasPrefix(#"{"time":""#)
                && text.contains(#"","app":"shop","version":"2.0.0","instance":"a","method":"GET","path":"/headers","#)
        )
    }

    @Test func theFileIsRotatedAtItsCap() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/access.log"
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start(
            settings: ProxySettings(accessLog: AccessLogSettings(path: path, maxBytes: 4_096, keep: 2))
        )
        try proxy.route([upstream.instance()])
        try await withClient { client in
            for number in 0..<200 { _ = try await get(client, proxy.url + "/?n=\(number)") }
        }
        try await proxy.stop()
        try await upstream.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["access.log", "access.log.1", "access.log.2"])
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int ?? 0
            #expect(size <= 4_096, "\(file): \(size) bytes")
        }
    }

    @Test func linesAreJSONWhateverTheRequestHolds() throws {
        var buffer: [UInt8] = []
        AccessLogLine(
            timeNs: 1_800_000_000_123_456_789,
            app: "shop",
            version: nil,
            instance: "i",
            method: "GET",
            target: "/a\"b\\c\u{1}?x=1",
            status: 200,
            durationNs: 1_532_000,
            bytes: 7,
            requestID: "r\n",
            traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        ).write(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(
            text == #"{"time":"2027-01-15T08:00:00.123Z","app":"shop","version":null,"instance":"i","method":"GET","#
                + #""path":"/a\"b\\c\u0001","status":200,"durationMs":1.532,"bytes":7,"requestId":"r\n","traceId":null}"#
                + "\n"
        )
        #expect(AccessLogLine.traceID("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") != nil)
        #expect(AccessLogLine.traceID("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01") == nil)
        #expect(AccessLogLine.traceID("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == nil)
        #expect(AccessLogLine.traceID("garbage") == nil)
    }

    @Test func theSettingsCrossTheControlChannel() throws {
        let settings = ProxySettings(
            accessLog: AccessLogSettings(path: "/s/logs/shop/access.log", maxBytes: 9, keep: 1)
        )
        let spec = ListenerSpec(host: "127.0.0.1", port: 0, settings: settings)
        let decoded = try JSONDecoder().decode(ListenerSpec.self, from: try JSONEncoder().encode(spec))
        #expect(decoded == spec)
        let without = ListenerSpec(host: "127.0.0.1", port: 0, settings: ProxySettings())
        #expect(try JSONDecoder().decode(ListenerSpec.self, from: try JSONEncoder().encode(without)) == without)
    }
}
