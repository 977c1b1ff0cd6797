import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore
import SlipwayHTTP1
import Testing

@testable import SlipwayProxy

@Suite struct OutcomeCountingTests {
    /// Reads the outcomes of a response with `headers` as the proxy does, and what the client receives of it.
    func take(from headers: HTTPHeaders) throws -> (outcomes: [(name: String, value: Double)], forwarded: String) {
        let text = "HTTP/1.1 200 OK\r\n" + headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n"
        var parser = ResponseHeadParser()
        var buffer = ByteBuffer(string: text)
        guard case .head(let head) = parser.parse(&buffer, requestMethod: .get) else {
            throw DataPlaneHeaderRewritingTests.HeadNotParsed(text: text)
        }
        var out = ByteBuffer()
        ClientResponseHead.write(head, clientMinorVersion: 1, clientKeepAlive: true, into: &out)
        return (OutcomeHeader.outcomes(in: head.values(of: .slipwayOutcome)), String(buffer: out))
    }

    @Test func theHeaderIsReadSummedAndRemoved() throws {
        let headers: HTTPHeaders = [
            "Content-Type": "text/plain", "X-Slipway-Outcome": "converted, revenue=12.5",
            "x-slipway-outcome": "revenue = 2.5,bad name, nan=NaN, =3, ok.step-2",
        ]
        let (outcomes, forwarded) = try take(from: headers)
        #expect(outcomes.map(\.name) == ["converted", "revenue", "ok.step-2"])
        #expect(outcomes.map(\.value) == [1, 15, 1])
        #expect(!forwarded.lowercased().contains("x-slipway-outcome"))
        #expect(forwarded.contains("\r\nContent-Type: text/plain\r\n"))
    }

    @Test func hugeValuesAreIgnoredSoThatTalliesStayFinite() throws {
        let headers: HTTPHeaders = ["X-Slipway-Outcome": "big=1e200, inf=inf, sum=1e9, sum=1e9, ok=-1e9"]
        let outcomes = try take(from: headers).outcomes
        #expect(outcomes.map(\.name) == ["sum", "ok"])
        var tally = OutcomeTally()
        for outcome in outcomes { tally.record(outcome.value) }
        // `sum` added up to 2e9 on one response: beyond the bound, so not counted either.
        #expect(tally == OutcomeTally(responses: 1, sum: -1e9, sumOfSquares: 1e18))
        let encoded = try JSONEncoder().encode(tally)
        #expect(try JSONDecoder().decode(OutcomeTally.self, from: encoded) == tally)
    }

    @Test func withoutTheHeaderNothingChanges() throws {
        let (outcomes, forwarded) = try take(from: ["Content-Type": "text/plain"])
        #expect(outcomes.isEmpty)
        #expect(forwarded == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    }

    @Test func oneResponseCountsAtMostSixteenOutcomes() throws {
        let headers = HTTPHeaders([("X-Slipway-Outcome", (0..<20).map { "o\($0)" }.joined(separator: ","))])
        #expect(try take(from: headers).outcomes.count == OutcomeHeader.maximumPerResponse)
    }

    @Test func aUnitKeepsItsOutcomesAndResponseTimeForPerUserExperiments() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await loops[0].submit {
                recorder.unitFinished(loop: 0, bad: false, latencyNanoseconds: 2_000_000, outcomes: [("converted", 1)])
                recorder.unitFinished(loop: 0, bad: true, latencyNanoseconds: 4_000_000)
            }.get()
            let first = await recorder.snapshot()
            try await loops[1].submit {
                recorder.unitFinished(
                    loop: 1,
                    bad: false,
                    latencyNanoseconds: 6_000_000,
                    outcomes: [("converted", 1), ("revenue", 5)]
                )
            }.get()
            let second = await recorder.snapshot()
            let units = try #require(second.units)
            #expect(units.units == 3 && units.bad == 1)
            #expect(units.outcomes["converted"] == OutcomeTally(responses: 2, sum: 2, sumOfSquares: 2))
            #expect(units.latency == OutcomeTally(responses: 3, sum: 12, sumOfSquares: 56))
            let window = try #require(second.window(since: first).units)
            #expect(window.units == 1 && window.bad == 0)
            #expect(
                window.outcomes == [
                    "converted": OutcomeTally(responses: 1, sum: 1, sumOfSquares: 1),
                    "revenue": OutcomeTally(responses: 1, sum: 5, sumOfSquares: 25),
                ]
            )
            #expect(window.latency == OutcomeTally(responses: 1, sum: 6, sumOfSquares: 36))
            // Through JSON, and from a data plane that sends only the counts.
            #expect(try JSONDecoder().decode(ComparisonUnits.self, from: try JSONEncoder().encode(units)) == units)
            let older = try JSONDecoder().decode(ComparisonUnits.self, from: Data(#"{"units": 4, "bad": 1}"#.utf8))
            #expect(older == ComparisonUnits(units: 4, bad: 1))
        }
    }

    @Test func outcomesAreCountedPerLoopMergedAndWindowed() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await loops[0].submit {
                recorder.recordOutcomes(loop: 0, [("converted", 1), ("revenue", 10)])
                recorder.recordOutcomes(loop: 0, [("revenue", 4)])
            }.get()
            let first = await recorder.snapshot()
            try await loops[1].submit {
                recorder.requestStarted(loop: 1)
                recorder.requestFinished(loop: 1, status: 200, proxyGenerated: false, latencyNanoseconds: 1_000)
                recorder.recordOutcomes(loop: 1, [("converted", 1)])
            }.get()
            let second = await recorder.snapshot()
            #expect(second.outcomes["converted"] == OutcomeTally(responses: 2, sum: 2, sumOfSquares: 2))
            #expect(second.outcomes["revenue"] == OutcomeTally(responses: 2, sum: 14, sumOfSquares: 116))
            let window = second.window(since: first)
            #expect(window.outcomes == ["converted": OutcomeTally(responses: 1, sum: 1, sumOfSquares: 1)])
            // They cross the control channel with the rest of the sample.
            let data = try JSONEncoder().encode(second)
            #expect(try JSONDecoder().decode(TrafficSnapshot.self, from: data).outcomes == second.outcomes)
        }
    }

    @Test func aShardCountsAtMostThirtyTwoNames() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await loops[0].submit {
                for index in 0..<40 { recorder.recordOutcomes(loop: 0, [("id\(index)", 1)]) }
            }.get()
            #expect(await recorder.snapshot().outcomes.count == 32)
        }
    }

    @Test func aSampleFromADataPlaneThatCountsNoOutcomesDecodes() throws {
        let old =
            #"{"requests":1,"inFlight":0,"responses":[0,0,1,0,0,0],"proxyGenerated":{},"latency":[],"#
            + #""latencyMin":0,"latencyMax":0}"#
        let snapshot = try JSONDecoder().decode(TrafficSnapshot.self, from: Data(old.utf8))
        #expect(snapshot.outcomes.isEmpty)
        #expect(snapshot.requests == 1)
    }
}

@Suite struct OutcomePrometheusTextTests {
    @Test func outcomesAreExposedPerVersionOnlyWhenReported() {
        var version = TrafficSnapshot.empty
        version.requests = 3
        version.outcomes = ["converted": OutcomeTally(responses: 2, sum: 2, sumOfSquares: 2)]
        let sample = AppTrafficSample(app: "shop", takenAt: .now, versions: ["2.0.0": version, "1.0.0": .empty])
        let text = PrometheusText.render([sample])
        #expect(text.contains("# TYPE slipway_proxy_outcomes_total counter\n"))
        #expect(text.contains(#"slipway_proxy_outcomes_total{app="shop",version="2.0.0",outcome="converted"} 2"#))
        #expect(text.contains(#"slipway_proxy_outcome_value_sum{app="shop",version="2.0.0",outcome="converted"} 2"#))
        #expect(!text.contains(#"version="1.0.0",outcome"#))
        #expect(!PrometheusText.render([AppTrafficSample(app: "shop", takenAt: .now)]).contains("outcome"))
    }
}
