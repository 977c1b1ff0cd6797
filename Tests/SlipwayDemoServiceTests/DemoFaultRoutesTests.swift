import Hummingbird
import HummingbirdTesting
import SlipwayDemoService
import Testing

/// Each fault knob, observed through the routes.
@Suite struct DemoFaultRoutesTests {
    private func service(_ configure: (inout DemoOptions) -> Void) -> (DemoService, RecordingHooks) {
        var options = DemoOptions()
        configure(&options)
        let recorder = RecordingHooks()
        return (DemoService(options: options, hooks: recorder.hooks), recorder)
    }

    @Test func errorRateFailsExactlyTheScheduledRequests() async throws {
        let (service, recorder) = service { $0.errorRate = 0.25 }
        let statuses = try await service.makeApplication().test(.router) { client in
            var statuses: [Int] = []
            for index in 1...40 {
                let uri = index.isMultiple(of: 2) ? "/" : "/work?ms=0"
                let status = try await client.execute(uri: uri, method: .get) { $0.status.code }
                statuses.append(status)
            }
            return statuses
        }
        let failed = statuses.indices.filter { statuses[$0] == 500 }.map { $0 + 1 }
        #expect(failed == Array(stride(from: 4, through: 40, by: 4)))
        #expect(statuses.filter { $0 == 200 }.count == 30)
        #expect(recorder.outputLines.filter { $0.contains(" 500 ") }.count == 10)
    }

    @Test func errorRateLeavesHealthChecksAlone() async throws {
        let (service, _) = service { $0.errorRate = 1 }
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .internalServerError) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func latencyDelaysEveryCountedRequest() async throws {
        // A latency far above what a busy machine adds, so the two sides cannot be confused.
        let (service, _) = service { $0.latency = .milliseconds(800) }
        try await service.makeApplication().test(.router) { client in
            for uri in ["/", "/work?ms=0", "/"] {
                let start = ContinuousClock.now
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .ok) }
                #expect(ContinuousClock.now - start >= .milliseconds(800))
            }
            let start = ContinuousClock.now
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            #expect(ContinuousClock.now - start < .milliseconds(800))
        }
    }

    @Test func slowFirstDelaysOnlyTheFirstRequests() async throws {
        let (service, _) = service {
            $0.slowFirst = 2
            $0.slowFirstLatency = .milliseconds(1000)
        }
        let durations = try await service.makeApplication().test(.router) { client in
            var durations: [Duration] = []
            for _ in 1...4 {
                let start = ContinuousClock.now
                try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
                durations.append(ContinuousClock.now - start)
            }
            return durations
        }
        #expect(durations[0] >= .milliseconds(1000))
        #expect(durations[1] >= .milliseconds(1000))
        #expect(durations[2] < .milliseconds(1000))
        #expect(durations[3] < .milliseconds(1000))
    }

    @Test func failHealthAnswersUnavailable() async throws {
        let (service, _) = service { $0.failHealth = true }
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.text == "unhealthy")
            }
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func failHealthAfterTurnsUnhealthyAfterThatManyRequests() async throws {
        let (service, _) = service { $0.failHealthAfter = 2 }
        let healthStatuses = try await service.makeApplication().test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 1...3 {
                statuses.append(try await client.execute(uri: "/healthz", method: .get) { $0.status })
                try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
            }
            statuses.append(try await client.execute(uri: "/healthz", method: .get) { $0.status })
            return statuses
        }
        #expect(healthStatuses == [.ok, .ok, .serviceUnavailable, .serviceUnavailable])
    }

    @Test func crashAfterExitsWithStatusThreeOnlyAfterThatRequest() async throws {
        let (service, recorder) = service { $0.crashAfter = 3 }
        try await service.makeApplication().test(.router) { client in
            for number in 1...2 {
                try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
                try await Task.sleep(for: DemoService.crashGrace * 2)
                #expect(recorder.exitStatuses.isEmpty, "no exit after request \(number)")
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                let body = try response.decoded(IdentityResponse.self)
                #expect(body.request == 3)
            }
        }
        #expect(try await recorder.waitForExit(timeout: .seconds(2)) == [3])
        #expect(recorder.errorLines.count == 1)
        #expect(recorder.errorLines.first?.contains("request 3") == true)
    }
}
