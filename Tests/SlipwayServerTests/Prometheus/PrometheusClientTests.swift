import AsyncHTTPClient
import Foundation
import SlipwayConfig
import SlipwayEngine
import SlipwayTestSupport
import Testing

@testable import SlipwayServer

/// What the query API's answers mean: exactly one number, or no answer with the reason.
@Suite struct PrometheusAnswerTests {
    func answer(_ json: String, status: UInt = 200) -> QueryAnswer {
        PrometheusClient.answer(status: status, body: Data(json.utf8))
    }

    @Test func oneSampleOrAScalarIsTheValue() {
        #expect(
            answer(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.25"]}]}}"#)
                == .value(0.25)
        )
        #expect(answer(#"{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}"#) == .value(42))
    }

    @Test func everythingElseIsNoAnswerWithItsReason() {
        let cases: [(String, UInt, String)] = [
            (#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, 200, "the query returned no data"),
            (
                #"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}"#,
                200, "the query returned 2 series; aggregate them to one, e.g. with sum()"
            ),
            (
                #"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}"#, 200,
                "the query's value is NaN"
            ),
            (
                #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, 200,
                "the query returned a matrix result; expected one number"
            ),
            (
                #"{"status":"error","errorType":"bad_data","error":"parse error"}"#, 400,
                "Prometheus refused the query: parse error"
            ),
            ("<html>bad gateway</html>", 502, "Prometheus answered 502 without a JSON body"),
        ]
        for (json, status, reason) in cases {
            #expect(answer(json, status: status) == .unavailable(reason))
        }
    }

    @Test func theQueryIsFormEncodedWithPlusSignsKept() {
        #expect(PrometheusClient.formEncoded("a+b {x=\"1\"}&[5m]") == "a%2Bb%20%7Bx%3D%221%22%7D%26%5B5m%5D")
    }
}

/// The client against a real Prometheus (Debian's `prometheus`) scraping a demo app's own `/metrics`.
@Suite(.enabled(if: PrometheusRequirement.canRun, "needs /usr/bin/prometheus (apt-get install prometheus)"))
struct PrometheusClientTests {
    @Test func aRealPrometheusAnswersOneNumberAndSaysWhyWhenItCannot() async throws {
        let app = try await DemoApp.start(version: "1.0.0")
        defer { app.stop() }
        let prometheus = try await PrometheusServer.start(staticTargets: ["127.0.0.1:\(app.port)"])
        defer { prometheus.stop() }
        let client = HTTPClient.shared
        let source = PrometheusClient(spec: PrometheusSpec(url: prometheus.url + "/"), client: client)

        for _ in 0..<5 { _ = try LoopbackHTTP.get(port: app.port, path: "/") }
        var answer = QueryAnswer.unavailable("not asked")
        try await waitUntil("Prometheus scrapes the app's five answers", timeout: .seconds(30)) {
            answer = await source.answer(#"sum(demo_responses_total{version="1.0.0",code="2xx"})"#)
            return answer == .value(5)
        }
        #expect(await source.answer("up") == .value(1))
        #expect(await source.answer("scalar(vector(0.5)) + 1") == .value(1.5))
        #expect(
            await source.answer(#"demo_responses_total{version="1.0.0"}"#)
                == .unavailable(
                    "the query returned 5 series; aggregate them to one, e.g. with sum()"
                )
        )
        #expect(
            await source.answer(#"sum(demo_responses_total{version="9.9.9"})"#)
                == .unavailable(
                    "the query returned no data"
                )
        )
        guard case .unavailable(let refused) = await source.answer("sum(rate(demo_responses_total[1m])") else {
            Issue.record("a malformed query had an answer")
            return
        }
        #expect(refused.hasPrefix("Prometheus refused the query: "), "\(refused)")

        // Nobody listening: no answer, with the address, in a bounded time.
        let closed = try LoopbackHTTP.freePort()
        let nowhere = PrometheusClient(
            spec: PrometheusSpec(url: "http://127.0.0.1:\(closed)", timeout: .seconds(2)),
            client: client
        )
        guard case .unavailable(let unreachable) = await nowhere.answer("up") else {
            Issue.record("a closed port had an answer")
            return
        }
        #expect(unreachable.hasPrefix("Prometheus at http://127.0.0.1:\(closed) did not answer"), "\(unreachable)")
    }
}

/// One `slipway-demo-app` on a free loopback port, stopped by its PID.
private final class DemoApp: Sendable {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(version: String) async throws -> DemoApp {
        let port = try LoopbackHTTP.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway-demo-app"))
        process.arguments = ["--port", String(port), "--version", version]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let app = DemoApp(process: process, port: port)
        do {
            try await waitUntil("the demo app accepts connections", timeout: .seconds(10)) {
                LoopbackHTTP.isAccepting(port: port)
            }
        } catch {
            app.stop()
            throw error
        }
        return app
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
